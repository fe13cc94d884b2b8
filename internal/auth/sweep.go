package auth

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/openwatch/openwatch/internal/pg"
)

// NonceSweepInterval is how often expired signed-request nonces are dropped.
const NonceSweepInterval = 10 * time.Minute

// NonceSweepArgs is the periodic job that drops the nonces of signed requests whose
// signatures can no longer be accepted, so tokens that stop signing leave nothing behind.
type NonceSweepArgs struct{}

// Kind names the job kind.
func (NonceSweepArgs) Kind() string { return "signed_nonce_sweep" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (NonceSweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type nonceSweepWorker struct {
	river.WorkerDefaults[NonceSweepArgs]
	svc *Service
}

func (w *nonceSweepWorker) Work(ctx context.Context, _ *river.Job[NonceSweepArgs]) error {
	n, err := w.svc.SweepNonces(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"deleted": n})
}

// SweepNonces deletes the expired nonces of every token and returns how many went.
func (s *Service) SweepNonces(ctx context.Context) (int64, error) {
	n, err := s.q.SignedNonceSweep(ctx, s.now())
	return n, pg.Translate(err)
}

// RegisterJobs adds the nonce sweep to workers and returns its periodic job.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &nonceSweepWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(NonceSweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return NonceSweepArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: NonceSweepArgs{}.Kind()})}
}
