package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// Period is how often the retention job runs.
const Period = time.Hour

// ApplyArgs is the periodic job that applies the retention policy.
type ApplyArgs struct{}

// Kind names the job.
func (ApplyArgs) Kind() string { return "retention_apply" }

// InsertOpts gives the job few attempts: the next period runs it again anyway.
func (ApplyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type applyWorker struct {
	river.WorkerDefaults[ApplyArgs]
	svc *Service
}

func (w *applyWorker) Work(ctx context.Context, _ *river.Job[ApplyArgs]) error {
	run, err := w.svc.Apply(ctx)
	if err != nil {
		return err
	}
	w.svc.log.InfoContext(ctx, "retention applied", slog.String("run", run.ID.String()), slog.String("deleted", string(run.Deleted)))
	return nil
}

// Timeout lets a run with a large backlog go on past the default job timeout: it
// deletes in short transactions, so running long holds no lock for long.
func (w *applyWorker) Timeout(*river.Job[ApplyArgs]) time.Duration { return 30 * time.Minute }

// RegisterJobs adds the worker and returns the periodic job (hourly, and once at start;
// River runs periodic jobs on the elected leader only).
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &applyWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(Period),
		func() (river.JobArgs, *river.InsertOpts) { return ApplyArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: ApplyArgs{}.Kind()})}
}
