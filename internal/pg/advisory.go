package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AdvisoryKey derives the advisory lock key of name (such as
// "openwatch:intel:discovery:<host id>"): the first 8 bytes of its SHA-256.
func AdvisoryKey(name string) int64 {
	sum := sha256.Sum256([]byte(name))
	return int64(binary.BigEndian.Uint64(sum[:8])) //nolint:gosec // a hash used as a lock key: wrapping is fine
}

// TryAdvisoryLock takes the session-level advisory lock key without waiting, on a
// connection of its own opened beside the pool (same settings): ok is false when another
// session holds it. Holding the lock never takes a connection from the pool, so holders
// that also query through the pool cannot exhaust it and wait on each other. release
// unlocks and closes that connection; the lock also dies with its connection, so a
// crashed process never leaves it held.
func TryAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, key int64) (release func(), ok bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, false, Translate(err)
	}
	closeConn := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		closeConn()
		return nil, false, Translate(err)
	}
	return func() {
		// Unlock first: the server drops a closed connection's locks only once its backend
		// has exited, and the next taker may be right behind. Closing drops it anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, _ = conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", key)
		closeConn()
	}, true, nil
}
