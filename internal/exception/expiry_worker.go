package exception

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ExpiryInterval is how often exceptions are checked for their expiry and for coming
// within the expiring window.
const ExpiryInterval = time.Minute

// ExpiryArgs is the periodic job that expires due exceptions and raises
// exception_expiring alerts.
type ExpiryArgs struct{}

// Kind names the job kind.
func (ExpiryArgs) Kind() string { return "exception_expiry" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (ExpiryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type expiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	svc *Service
}

func (w *expiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	expired, err := w.svc.ExpireDue(ctx)
	if err != nil {
		return err
	}
	expiring, err := w.svc.RaiseExpiring(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"expired": expired, "expiring": expiring})
}

// RegisterJobs adds the expiry worker to workers and returns its periodic job.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &expiryWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ExpiryInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ExpiryArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: ExpiryArgs{}.Kind()})}
}
