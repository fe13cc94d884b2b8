// Package testjobs holds job kinds that exist only in binaries built with the build tag
// openwatchtest (workertest.BuildBinary builds such a binary), for tests that drive
// separate openwatch processes. Production binaries never register them.
package testjobs

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/riverqueue/river"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// BuildTag is the build tag that registers these kinds in package worker.
const BuildTag = "openwatchtest"

// BlockArgs is a job whose first attempt writes the process id to Marker and then blocks
// until the process exits (it ignores its context, so only killing the process ends it).
// Later attempts complete at once and record BlockOutput. Tests kill the process that
// blocks and watch another process finish the job after River's rescuer has freed it.
type BlockArgs struct {
	Marker string `json:"marker"`
}

// Kind names the job kind.
func (BlockArgs) Kind() string { return "openwatch_test_block" }

// InsertOpts allows a few attempts.
func (BlockArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// BlockOutput is what a completed block job records.
type BlockOutput struct {
	PID           int    `json:"pid"`
	Attempt       int    `json:"attempt"`
	CorrelationID string `json:"correlation_id"`
}

type blockWorker struct {
	river.WorkerDefaults[BlockArgs]
}

func (*blockWorker) Work(ctx context.Context, job *river.Job[BlockArgs]) error {
	if job.Attempt == 1 {
		if err := os.WriteFile(job.Args.Marker, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return fmt.Errorf("write marker: %w", err)
		}
		select {} // until the process dies
	}
	return river.RecordOutput(ctx, BlockOutput{PID: os.Getpid(), Attempt: job.Attempt, CorrelationID: reqinfo.CorrelationID(ctx)})
}

// Register adds the test workers to a bundle.
func Register(w *river.Workers) {
	river.AddWorker(w, &blockWorker{})
}
