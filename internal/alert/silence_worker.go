package alert

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// SilenceInterval is how often silenced alerts are checked for an expired silence.
const SilenceInterval = time.Minute

// SilenceExpiryArgs is the periodic job that returns alerts to active when their silence
// runs out.
type SilenceExpiryArgs struct{}

// Kind names the job kind.
func (SilenceExpiryArgs) Kind() string { return "alert_silence_expiry" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (SilenceExpiryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type silenceWorker struct {
	river.WorkerDefaults[SilenceExpiryArgs]
	svc *Service
}

func (w *silenceWorker) Work(ctx context.Context, _ *river.Job[SilenceExpiryArgs]) error {
	n, err := w.svc.ExpireSilences(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"unsilenced": n})
}

// RegisterJobs adds the silence expiry worker and the audit chain check
// (chain_worker.go) to workers and returns their periodic jobs; the chain check only when
// a verifier and an interval are configured.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &silenceWorker{svc: s})
	jobs := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SilenceInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SilenceExpiryArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: SilenceExpiryArgs{}.Kind()})}
	if s.chain != nil && s.chainEvery > 0 {
		river.AddWorker(workers, &chainWorker{svc: s})
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(s.chainEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ChainVerifyArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: ChainVerifyArgs{}.Kind()}))
	}
	return jobs
}
