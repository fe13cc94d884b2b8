package pg

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool settings that Connect applies; the DSN's own pool_* and connect_timeout parameters
// take precedence where it sets them.
const (
	healthCheckPeriod     = 30 * time.Second
	defaultConnectTimeout = 10 * time.Second
	rollbackTimeout       = 5 * time.Second
)

// Connect opens a connection pool on dsn (a PostgreSQL URL or keyword/value string) with at
// most maxConns connections (pgx's default when maxConns <= 0), and pings the server once.
// A server that cannot be reached yields an apperr Unavailable error whose cause names
// the reason. logger may be nil.
func Connect(ctx context.Context, dsn string, maxConns int, logger *slog.Logger) (*pgxpool.Pool, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("parse database dsn: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(min(maxConns, math.MaxInt32))
	}
	cfg.HealthCheckPeriod = healthCheckPeriod
	cfg.AfterConnect = AfterConnect
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", Translate(err))
	}
	logger.InfoContext(ctx, "database connected",
		slog.String("host", cfg.ConnConfig.Host),
		slog.Int("port", int(cfg.ConnConfig.Port)),
		slog.String("database", cfg.ConnConfig.Database),
		slog.String("user", cfg.ConnConfig.User),
		slog.Int("max_conns", int(cfg.MaxConns)))
	return pool, nil
}

// AfterConnect prepares every new connection of a pool: it registers the Go types the
// queries use natively (RegisterUUID). Pools opened outside Connect (tests) set it too.
func AfterConnect(_ context.Context, c *pgx.Conn) error {
	RegisterUUID(c.TypeMap())
	return nil
}

// WithTx runs fn inside a transaction on pool. The transaction commits when fn returns nil
// and rolls back when fn returns an error or panics (the panic then continues). Errors from
// fn, BEGIN and COMMIT pass through Translate, so a caller sees apperr kinds for driver
// errors such as a unique violation raised by a deferred constraint at commit time.
//
// The transaction is sent lazily (see lazyTx): BEGIN travels with the first statement and
// the statements queued with AtCommit travel with COMMIT, so a write of one statement and
// its audit event costs three round trips, not six.
//
// Inside ContextWithTx's context (a request that must commit once, with its idempotency
// bookkeeping), fn joins that transaction instead: its owner commits or rolls back
// everything at once, so an error from fn rolls back all of it.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(ambientKey{}).(*lazyTx); ok && !tx.closed {
		return Translate(fn(tx))
	}
	return WithOwnTx(ctx, pool, fn)
}

// WithOwnTx is WithTx in a transaction of its own even inside ContextWithTx's context, for
// what must commit whatever becomes of the request (the record of a refusal).
func WithOwnTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", Translate(err))
	}
	tx := &lazyTx{conn: conn}
	ended := false
	defer func() {
		if !ended { // fn panicked (the panic goes on) or ended its goroutine
			rollback(ctx, tx)
		}
	}()
	err = fn(tx)
	ended = true
	if err != nil {
		rollback(ctx, tx)
		return Translate(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", Translate(err))
	}
	return nil
}

type ambientKey struct{}

// ContextWithTx returns ctx carrying tx, a transaction of WithOwnTx (others are ignored):
// WithTx calls under it join tx rather than begin their own.
func ContextWithTx(ctx context.Context, tx pgx.Tx) context.Context {
	if t, ok := tx.(*lazyTx); ok {
		return context.WithValue(ctx, ambientKey{}, t)
	}
	return ctx
}

// rollback ends tx even when ctx is already cancelled. A failed rollback leaves nothing to
// do: pgx closes a connection whose transaction state is unknown.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}
