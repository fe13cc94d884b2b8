// Package actiontest runs change actions' scripts on a test target, one script per session,
// as root, for tests of the packages that build actions.
package actiontest

import (
	"context"
	"testing"
	"time"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Target is a privileged way to run scripts on a test host: an sshtest server's client.
type Target struct {
	T      testing.TB
	Client *sshx.Client
}

// Run runs script as root and returns its result; a session error fails the test.
func (tg Target) Run(script string) sshx.Result {
	tg.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	br, err := tg.Client.Batch(ctx, []sshx.Command{{Name: "s", Script: script}}, sshx.BatchOptions{Privileged: true})
	if err != nil {
		tg.T.Fatalf("run script: %v\n%s", err, script)
	}
	return br.Results[0]
}

// MustRun runs script as root and fails the test unless it exits 0; it returns stdout.
func (tg Target) MustRun(script string) string {
	tg.T.Helper()
	r := tg.Run(script)
	if !r.OK() {
		tg.T.Fatalf("script exited %d\nstdout: %s\nstderr: %s\nscript:\n%s", r.ExitCode, r.Stdout, r.Stderr, script)
	}
	return string(r.Stdout)
}

// Capture runs a's Capture and returns the prior state, failing the test when it is
// larger than change.MaxPriorBytes.
func (tg Target) Capture(a change.Action) string {
	tg.T.Helper()
	prior := tg.MustRun(a.Capture)
	if len(prior) > change.MaxPriorBytes {
		tg.T.Fatalf("%s: captured %d bytes, more than %d", a.Kind, len(prior), change.MaxPriorBytes)
	}
	return prior
}

// Preview runs a's Preview with prior and returns what it printed.
func (tg Target) Preview(a change.Action, prior string) string {
	tg.T.Helper()
	return tg.MustRun(change.WithPrior(a.Preview, prior))
}

// Apply runs a's Apply and returns its result.
func (tg Target) Apply(a change.Action) sshx.Result {
	tg.T.Helper()
	return tg.Run(a.Apply)
}

// Restore runs a's Restore with prior and returns its result.
func (tg Target) Restore(a change.Action, prior string) sshx.Result {
	tg.T.Helper()
	return tg.Run(change.WithPrior(a.Restore, prior))
}
