package support

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/pg"
)

// The statistics below read PostgreSQL's catalogue and River's tables, which the sqlc
// schema (our migrations) does not describe, so they are written here as plain SQL, as
// internal/worker does for River. They read counts, sizes, states and times only.

// TableSize is one table's row estimate and size on disk.
type TableSize struct {
	Table        string `json:"table"`
	RowsEstimate int64  `json:"rows_estimate"`
	TotalBytes   int64  `json:"total_bytes"`
	TableBytes   int64  `json:"table_bytes"`
	IndexBytes   int64  `json:"index_bytes"`
}

func tableSizes(ctx context.Context, pool *pgxpool.Pool) ([]TableSize, error) {
	rows, err := pool.Query(ctx, `SELECT c.relname, greatest(c.reltuples, 0)::bigint,
		pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
		ORDER BY pg_total_relation_size(c.oid) DESC, c.relname`)
	if err != nil {
		return nil, pg.Translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableSize, error) {
		var t TableSize
		err := r.Scan(&t.Table, &t.RowsEstimate, &t.TotalBytes, &t.TableBytes, &t.IndexBytes)
		return t, err
	})
	return out, pg.Translate(err)
}

// Queue is River's queue state.
type Queue struct {
	ByKindAndState []KindStateCount `json:"by_kind_and_state"`
	// OldestAvailableSeconds is how long the oldest job ready to run has waited (0: none).
	OldestAvailableSeconds float64      `json:"oldest_available_seconds"`
	Queues                 []QueueRow   `json:"queues"`
	Leader                 *LeaderState `json:"leader,omitempty"`
}

// KindStateCount counts the jobs of one kind in one state.
type KindStateCount struct {
	Kind  string `json:"kind"`
	State string `json:"state"`
	Count int64  `json:"count"`
}

// QueueRow is one River queue.
type QueueRow struct {
	Name      string     `json:"name"`
	PausedAt  *time.Time `json:"paused_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// LeaderState is the elected leader of River's maintenance and periodic jobs.
type LeaderState struct {
	LeaderID  string    `json:"leader_id"`
	ElectedAt time.Time `json:"elected_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func queueState(ctx context.Context, pool *pgxpool.Pool, now time.Time) (Queue, error) {
	var q Queue
	rows, err := pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return q, pg.Translate(err)
	}
	q.ByKindAndState, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (KindStateCount, error) {
		var c KindStateCount
		err := r.Scan(&c.Kind, &c.State, &c.Count)
		return c, err
	})
	if err != nil {
		return q, pg.Translate(err)
	}
	var oldest *time.Time
	if err := pool.QueryRow(ctx, `SELECT min(scheduled_at) FROM river_job WHERE state = 'available'`).Scan(&oldest); err != nil {
		return q, pg.Translate(err)
	}
	if oldest != nil && now.After(*oldest) {
		q.OldestAvailableSeconds = now.Sub(*oldest).Seconds()
	}
	rows, err = pool.Query(ctx, `SELECT name, paused_at, updated_at FROM river_queue ORDER BY name`)
	if err != nil {
		return q, pg.Translate(err)
	}
	q.Queues, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueRow, error) {
		var x QueueRow
		err := r.Scan(&x.Name, &x.PausedAt, &x.UpdatedAt)
		return x, err
	})
	if err != nil {
		return q, pg.Translate(err)
	}
	rows, err = pool.Query(ctx, `SELECT leader_id, elected_at, expires_at FROM river_leader LIMIT 1`)
	if err != nil {
		return q, pg.Translate(err)
	}
	leaders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeaderState, error) {
		var l LeaderState
		err := r.Scan(&l.LeaderID, &l.ElectedAt, &l.ExpiresAt)
		return l, err
	})
	if err != nil {
		return q, pg.Translate(err)
	}
	if len(leaders) > 0 {
		q.Leader = &leaders[0]
	}
	return q, nil
}

// counts runs a query of (label, count) rows into a map.
func counts(ctx context.Context, pool *pgxpool.Pool, sql string) (map[string]int64, error) {
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		return nil, pg.Translate(err)
	}
	out := map[string]int64{}
	var k string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil })
	return out, pg.Translate(err)
}

func hostSummary(ctx context.Context, pool *pgxpool.Pool) (map[string]any, error) {
	var total, deleted, groups int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL),
		(SELECT count(*) FROM host_groups) FROM hosts`).Scan(&total, &deleted, &groups); err != nil {
		return nil, pg.Translate(err)
	}
	return map[string]any{"hosts": total, "deleted_hosts": deleted, "groups": groups}, nil
}

func livenessSummary(ctx context.Context, pool *pgxpool.Pool) (map[string]any, error) {
	byState, err := counts(ctx, pool, `SELECT monitoring_state, count(*) FROM host_liveness GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var last *time.Time
	var history int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT max(check_time) FROM host_monitoring_history),
		(SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'host_monitoring_history'::regclass)`).Scan(&last, &history); err != nil {
		return nil, pg.Translate(err)
	}
	return map[string]any{"hosts_by_state": byState, "last_check_at": last, "history_rows_estimate": history}, nil
}

func scanSummary(ctx context.Context, pool *pgxpool.Pool) (map[string]any, error) {
	byStatus, err := counts(ctx, pool, `SELECT status, count(*) FROM scans GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var lastCreated, lastFinished *time.Time
	if err := pool.QueryRow(ctx, `SELECT max(created_at), max(finished_at) FROM scans`).Scan(&lastCreated, &lastFinished); err != nil {
		return nil, pg.Translate(err)
	}
	discovery, err := counts(ctx, pool, `SELECT status, count(*) FROM discovery_scans GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return map[string]any{"compliance_scans_by_status": byStatus, "last_scan_requested_at": lastCreated,
		"last_scan_finished_at": lastFinished, "discovery_scans_by_status": discovery}, nil
}
