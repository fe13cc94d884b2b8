package pgtest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// QueryLog is a pgx tracer recording what a pool sends, one entry per round trip, by the
// correlation id of the statement's context ("" for none): a statement's SQL, or a
// pipeline's statements joined by " | " in brackets. Tests count round trips with it.
type QueryLog struct {
	mu   sync.Mutex
	sent map[string][]string
}

// NewQueryLog returns an empty log.
func NewQueryLog() *QueryLog { return &QueryLog{sent: map[string][]string{}} }

func (l *QueryLog) add(ctx context.Context, sql string) {
	id := reqinfo.CorrelationID(ctx)
	l.mu.Lock()
	l.sent[id] = append(l.sent[id], sql)
	l.mu.Unlock()
}

// TraceQueryStart records a statement sent on its own.
func (l *QueryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.add(ctx, d.SQL)
	return ctx
}

// TraceQueryEnd does nothing.
func (*QueryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart records a pipeline as one round trip.
func (l *QueryLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	sqls := make([]string, 0, len(d.Batch.QueuedQueries))
	for _, q := range d.Batch.QueuedQueries {
		sqls = append(sqls, q.SQL)
	}
	l.add(ctx, "["+strings.Join(sqls, " | ")+"]")
	return ctx
}

// TraceBatchQuery does nothing.
func (*QueryLog) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd does nothing.
func (*QueryLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Of returns the round trips made under a correlation id ("" for contexts without one).
func (l *QueryLog) Of(correlationID string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.sent[correlationID]...)
}

// Containing counts the round trips, under every correlation id, whose SQL contains s.
func (l *QueryLog) Containing(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, sent := range l.sent {
		for _, sql := range sent {
			if strings.Contains(sql, s) {
				n++
			}
		}
	}
	return n
}

// Take returns the round trips made under a correlation id and forgets them.
func (l *QueryLog) Take(correlationID string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sent[correlationID]
	delete(l.sent, correlationID)
	return s
}

// NewTracedPool returns a pool of at most maxConns connections on a fresh, migrated
// database (dropped when t ends) whose round trips log records.
func NewTracedPool(t testing.TB, log *QueryLog, maxConns int32) *pgxpool.Pool {
	t.Helper()
	return openPool(t, maxConns, log)
}
