package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgxpool"
)

// AdvisoryKey derives the advisory lock key of name (such as
// "openwatch:intel:discovery:<host id>"): the first 8 bytes of its SHA-256.
func AdvisoryKey(name string) int64 {
	sum := sha256.Sum256([]byte(name))
	return int64(binary.BigEndian.Uint64(sum[:8])) //nolint:gosec // a hash used as a lock key: wrapping is fine
}

// TryAdvisoryLock takes the session-level advisory lock key on a pooled connection of its
// own, without waiting: ok is false when another session holds it. On success, release
// unlocks and returns the connection to the pool; a connection whose unlock failed is
// closed instead, so the lock never outlives the caller on a pooled connection. The lock
// dies with its connection, so a crashed process never leaves it held.
func TryAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, key int64) (release func(), ok bool, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, false, Translate(err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, Translate(err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			_ = conn.Hijack().Close(uctx)
			return
		}
		conn.Release()
	}, true, nil
}
