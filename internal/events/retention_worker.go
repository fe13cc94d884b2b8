package events

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
)

// RetentionArgs is the periodic retention job.
type RetentionArgs struct{}

// Kind names the job kind.
func (RetentionArgs) Kind() string { return "events_retention" }

// InsertOpts: a failed sweep is retried a few times; the next period retries anyway.
func (RetentionArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	svc *Retention
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	res, err := w.svc.Sweep(ctx)
	if err != nil {
		return err
	}
	if res.Events > 0 || res.Tickets > 0 {
		w.svc.logger.InfoContext(ctx, "event retention sweep", slog.Int64("events", res.Events), slog.Int64("tickets", res.Tickets))
	}
	return river.RecordOutput(ctx, res)
}

// RegisterJobs adds the retention worker to workers and returns its periodic job.
func (r *Retention) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &retentionWorker{svc: r})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: RetentionArgs{}.Kind()})}
}
