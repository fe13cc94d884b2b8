package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer runs a statement (a pool, a connection or a transaction).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Park holds back, until until, the jobs of kind on queue whose args carry the string
// value at key and that wait to run (available) or to run again (scheduled, retryable)
// before then: River's scheduler makes them available at until, and no worker fetches
// them in between. It costs the jobs no attempt. A caller uses it to stop a flood of
// jobs that would each only wait on the same stuck resource (a receiver that does not
// answer). It returns how many jobs moved.
func Park(ctx context.Context, db Execer, queue, kind, key, value string, until time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE river_job
		SET state = CASE WHEN state = 'available' THEN 'scheduled'::river_job_state ELSE state END,
		    scheduled_at = $5
		WHERE queue = $1 AND kind = $2 AND args ->> $3 = $4
		  AND state IN ('available', 'scheduled', 'retryable') AND scheduled_at < $5`,
		queue, kind, key, value, until)
	if err != nil {
		return 0, fmt.Errorf("park %s jobs: %w", kind, err)
	}
	return tag.RowsAffected(), nil
}

// Unpark makes the jobs Park held back (kind on queue, args' key = value, scheduled to
// run later) available now, once what they waited on answers again. Jobs waiting for a
// retry keep their back-off. It returns how many jobs moved.
func Unpark(ctx context.Context, db Execer, queue, kind, key, value string) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE queue = $1 AND kind = $2 AND args ->> $3 = $4 AND state = 'scheduled' AND scheduled_at > now()`,
		queue, kind, key, value)
	if err != nil {
		return 0, fmt.Errorf("unpark %s jobs: %w", kind, err)
	}
	return tag.RowsAffected(), nil
}

// DeleteFinalized deletes at most batch of the jobs that finished (completed, discarded
// or cancelled) before cutoff, oldest first, and returns how many it deleted. The
// retention job calls it batch after batch; River's own cleaner keeps completed jobs only
// CompletedJobRetention and leaves discarded and cancelled ones to it (NewClient).
func DeleteFinalized(ctx context.Context, db Execer, cutoff time.Time, batch int) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM river_job WHERE id IN (
		SELECT id FROM river_job
		WHERE state IN ('completed', 'discarded', 'cancelled') AND finalized_at < $1
		ORDER BY finalized_at LIMIT $2)`, cutoff, batch)
	if err != nil {
		return 0, fmt.Errorf("delete finished jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}
