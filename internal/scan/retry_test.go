package scan_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
)

// TestScanInterruptedAndRetried: a worker that dies while the program runs on the target
// leaves the scan running with nothing written; the retried job runs it again and writes
// its results once; late duplicate attempts, even two at once, write nothing more.
func TestScanInterruptedAndRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.3", noWorker)
	id := f.host("retried")
	sc := f.startScan(id, nil)
	svc := f.env.App.Compliance
	hostRows := func(table string) int { return f.count(`SELECT count(*) FROM `+table+` WHERE host_id = $1`, id) }

	// The worker dies once the scan is running: while it connects to the target or runs
	// its program there, either way the scan is left for the retry, not failed.
	ctx, kill := context.WithCancel(context.Background())
	go func() {
		defer kill()
		for ctx.Err() == nil {
			if f.count(`SELECT count(*) FROM scans WHERE id = $1 AND status = 'running'`, sc.Id) == 1 {
				time.Sleep(20 * time.Millisecond)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	require.ErrorIs(t, svc.Run(ctx, sc.Id), context.Canceled)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM scans WHERE id = $1 AND status = 'running'`, sc.Id))
	require.Zero(t, hostRows("rule_states"))
	require.Zero(t, hostRows("rule_transitions"))
	require.Zero(t, hostRows("host_compliance"))

	// The job is retried and completes.
	require.NoError(t, svc.Run(context.Background(), sc.Id))
	done := f.wait(sc.Id)
	require.Equal(t, api.ScanStatusCompleted, done.Status, "%v", done.Error)
	require.Positive(t, done.RulesTotal)
	require.Equal(t, done.RulesTotal, hostRows("rule_states"))
	require.Equal(t, done.RulesTotal, f.count(`SELECT count(*) FROM rule_transitions WHERE host_id = $1 AND change_kind = 'first_seen'`, id))
	require.Equal(t, done.RulesTotal, hostRows("rule_transitions"))
	finished := f.count(`SELECT count(*) FROM events WHERE topic = 'scans' AND type = 'scan.finished' AND data->>'scan_id' = $1`, sc.Id.String())
	require.Equal(t, 1, finished)

	// Late duplicates of the job find the scan ended.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { require.NoError(t, svc.Run(context.Background(), sc.Id)) })
	}
	wg.Wait()
	require.Equal(t, done.RulesTotal, hostRows("rule_transitions"))
	again := f.wait(sc.Id)
	require.Equal(t, done.FinishedAt, again.FinishedAt)
	require.Equal(t, finished, f.count(`SELECT count(*) FROM events WHERE topic = 'scans' AND type = 'scan.finished' AND data->>'scan_id' = $1`, sc.Id.String()))
}
