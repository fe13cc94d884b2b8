package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/pg"
)

// LeaderTTL is how long River's leader row stays valid after each re-election (River
// re-elects every 5 s and adds 10 s of padding). Only processes that work jobs take part
// in the election, so a leader row that has not expired means some worker process is
// alive.
const LeaderTTL = 15 * time.Second

// Querier is what the status queries need: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Status describes background job processing, for GET /system/connectivity/status.
type Status struct {
	// Working says whether this process works jobs.
	Working bool
	// LeaderID is River's id of the elected leader ("" when no process leads).
	LeaderID string
	// LeaderAlive is true while the leader's lease has not expired: some worker process
	// (openwatch worker or serve with worker.with_worker) is running.
	LeaderAlive bool
	// LastSeen is when a worker process last showed it was alive (the leader's last
	// re-election); nil when none ever was (since the database started: the table is
	// unlogged).
	LastSeen *time.Time
	// Depth is the number of jobs not finished yet, per job kind (QueueDepth).
	Depth map[string]int64
}

// ReadStatus returns the job processing status seen from this process.
func ReadStatus(ctx context.Context, q Querier, working bool) (Status, error) {
	st := Status{Working: working}
	var expires time.Time
	var alive bool
	err := q.QueryRow(ctx, `SELECT leader_id, expires_at, expires_at > now() FROM river_leader ORDER BY expires_at DESC LIMIT 1`).
		Scan(&st.LeaderID, &expires, &alive)
	switch {
	case err == nil:
		st.LeaderAlive = alive
		seen := expires.Add(-LeaderTTL)
		st.LastSeen = &seen
	case pg.IgnoreNotFound(err) != nil: // no row means no leader yet
		return Status{}, fmt.Errorf("read river leader: %w", err)
	}
	if st.Depth, err = QueueDepth(ctx, q); err != nil {
		return Status{}, err
	}
	return st, nil
}

// QueueDepth counts the jobs not finished yet: waiting to run (available, pending,
// scheduled), running, or waiting to be retried, per job kind; kinds with none are absent.
func QueueDepth(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT kind, count(*) FROM river_job
		WHERE state IN ('available', 'pending', 'scheduled', 'running', 'retryable') GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("count queued jobs: %w", err)
	}
	depth := map[string]int64{}
	var kind string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &n}, func() error {
		depth[kind] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count queued jobs: %w", err)
	}
	return depth, nil
}
