package intel

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// SystemInfoArgs is the job collecting one host's system info.
type SystemInfoArgs struct {
	HostID uuid.UUID `json:"host_id"`
}

// Kind names the job kind.
func (SystemInfoArgs) Kind() string { return "intel_system_info" }

// InsertOpts retries a few times and keeps one job per host queued.
func (SystemInfoArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

type systemInfoWorker struct {
	river.WorkerDefaults[SystemInfoArgs]
	svc *Service
}

func (w *systemInfoWorker) Work(ctx context.Context, job *river.Job[SystemInfoArgs]) error {
	_, err := w.svc.CollectSystemInfo(ctx, nil, job.Args.HostID)
	return jobResult(err)
}
