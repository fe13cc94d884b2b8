package scan

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// RetentionPeriod is how often the retention job runs.
const RetentionPeriod = time.Hour

// ScheduleArgs is the periodic job that queues the scans that are due.
type ScheduleArgs struct{}

// Kind names the job kind.
func (ScheduleArgs) Kind() string { return "scan_schedule" }

// InsertOpts: a failed tick is not retried; the next one makes up for it.
func (ScheduleArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	svc *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	queued, err := w.svc.ScheduleTick(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"queued": len(queued)})
}

// RetentionArgs is the periodic job that deletes scans and evidence past their retention.
type RetentionArgs struct{}

// Kind names the job kind.
func (RetentionArgs) Kind() string { return "scan_retention" }

// InsertOpts: a failed run is retried a few times; the next period retries anyway, and
// what a failed run deleted stays deleted.
func (RetentionArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	svc *Service
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	res, err := w.svc.ApplyRetention(ctx)
	if err != nil {
		return err
	}
	if res.Scans > 0 || res.Evidence > 0 {
		w.svc.log.InfoContext(ctx, "scan retention", slog.Int64("scans", res.Scans), slog.Int64("evidence", res.Evidence))
	}
	return river.RecordOutput(ctx, res)
}

// periodicJobs are the scheduler, every SchedulePeriod, and retention, hourly; River runs
// them on the cluster's leader only, and at start.
func (s *Service) periodicJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &scheduleWorker{svc: s})
	river.AddWorker(workers, &retentionWorker{svc: s})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(s.opts.SchedulePeriod),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: ScheduleArgs{}.Kind()}),
		river.NewPeriodicJob(river.PeriodicInterval(RetentionPeriod),
			func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: RetentionArgs{}.Kind()}),
	}
}
