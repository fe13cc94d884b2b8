package report

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// GenerateArgs is the job that builds, signs and stores one report.
type GenerateArgs struct {
	ReportID uuid.UUID `json:"report_id"`
}

// Kind names the job kind.
func (GenerateArgs) Kind() string { return "report_generate" }

// InsertOpts: a report that cannot be built is marked failed with the reason and not
// retried (Run returns nil); the retries are for a worker that died while building it (the
// rescued job starts the running report again).
func (GenerateArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type generateWorker struct {
	river.WorkerDefaults[GenerateArgs]
	svc *Service
}

// Timeout bounds one report's generation.
func (w *generateWorker) Timeout(*river.Job[GenerateArgs]) time.Duration { return 30 * time.Minute }

func (w *generateWorker) Work(ctx context.Context, job *river.Job[GenerateArgs]) error {
	return w.svc.Run(ctx, job.Args.ReportID)
}

// RegisterJobs adds the generation and schedule workers to workers and returns the
// schedules' periodic job.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &generateWorker{svc: s})
	river.AddWorker(workers, &scheduleWorker{svc: s})
	river.AddWorker(workers, &deliverWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ScheduleInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: ScheduleArgs{}.Kind()})}
}
