// Package testjobs holds job kinds that exist only in binaries built with the build tag
// openwatchtest (workertest.BuildBinary builds such a binary), for tests that drive
// separate openwatch processes. Production binaries never register them.
package testjobs

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

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

// GateArgs is a job that writes the process id to Marker and then waits until the file
// Gate exists (or its context ends), recording GateOutput. A test that inserts more gate
// jobs than one process may run at once sees them held by several processes at the same
// moment, then opens the gate.
type GateArgs struct {
	Marker string `json:"marker"`
	Gate   string `json:"gate"`
}

// Kind names the job kind.
func (GateArgs) Kind() string { return "openwatch_test_gate" }

// InsertOpts allows a few attempts.
func (GateArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// GateOutput is what a completed gate job records.
type GateOutput struct {
	PID int `json:"pid"`
}

// gatePoll is how often a gate job looks for its gate file.
const gatePoll = 20 * time.Millisecond

type gateWorker struct {
	river.WorkerDefaults[GateArgs]
}

func (*gateWorker) Work(ctx context.Context, job *river.Job[GateArgs]) error {
	if err := os.WriteFile(job.Args.Marker, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	tick := time.NewTicker(gatePoll)
	defer tick.Stop()
	for {
		if _, err := os.Stat(job.Args.Gate); err == nil {
			return river.RecordOutput(ctx, GateOutput{PID: os.Getpid()})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Register adds the test workers to a bundle.
func Register(w *river.Workers) {
	river.AddWorker(w, &blockWorker{})
	river.AddWorker(w, &gateWorker{})
}
