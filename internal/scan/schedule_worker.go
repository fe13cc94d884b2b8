package scan

import (
	"context"

	"github.com/riverqueue/river"
)

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

// periodicJobs are the scheduler, every SchedulePeriod; River runs it on the cluster's
// leader only, and at start.
func (s *Service) periodicJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &scheduleWorker{svc: s})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(s.opts.SchedulePeriod),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: ScheduleArgs{}.Kind()}),
	}
}
