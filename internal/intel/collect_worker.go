package intel

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// CollectArgs is the job collecting one host's intelligence.
type CollectArgs struct {
	HostID uuid.UUID `json:"host_id"`
}

// Kind names the job kind.
func (CollectArgs) Kind() string { return "intel_collect" }

// InsertOpts retries a few times and keeps one job per host queued.
func (CollectArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

type collectWorker struct {
	river.WorkerDefaults[CollectArgs]
	svc *Service
}

func (w *collectWorker) Work(ctx context.Context, job *river.Job[CollectArgs]) error {
	_, err := w.svc.Collect(ctx, nil, job.Args.HostID)
	return jobResult(err)
}
