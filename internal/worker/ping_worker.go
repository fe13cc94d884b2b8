package worker

import (
	"context"
	"os"

	"github.com/riverqueue/river"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// PingArgs is a job that does nothing but record who ran it: a round trip through the
// queue that proves some process works jobs (smoke tests, diagnostics).
type PingArgs struct {
	// Note is copied to the output.
	Note string `json:"note,omitempty"`
}

// Kind names the job kind.
func (PingArgs) Kind() string { return "worker_ping" }

// InsertOpts gives pings few attempts: a ping that fails says enough.
func (PingArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// PingOutput is what a ping records as its output (river:output in the job's metadata).
type PingOutput struct {
	Note          string `json:"note,omitempty"`
	CorrelationID string `json:"correlation_id"`
	PID           int    `json:"pid"`
}

type pingWorker struct {
	river.WorkerDefaults[PingArgs]
}

func (*pingWorker) Work(ctx context.Context, job *river.Job[PingArgs]) error {
	return river.RecordOutput(ctx, PingOutput{Note: job.Args.Note, CorrelationID: reqinfo.CorrelationID(ctx), PID: os.Getpid()})
}
