package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// DefaultRetention is how long events are kept for clients resuming with Last-Event-ID.
const DefaultRetention = 24 * time.Hour

// SweepInterval is how often the retention sweep runs (once per cluster).
const SweepInterval = 15 * time.Minute

// Retention deletes events older than the retention window and expired stream tickets.
type Retention struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	keep   time.Duration
	now    func() time.Time
}

// NewRetention returns the sweeper; keep is the retention window (DefaultRetention when 0).
func NewRetention(pool *pgxpool.Pool, logger *slog.Logger, keep time.Duration, now func() time.Time) *Retention {
	if keep <= 0 {
		keep = DefaultRetention
	}
	if now == nil {
		now = time.Now
	}
	return &Retention{pool: pool, logger: logger, keep: keep, now: now}
}

// SweepResult says what one sweep deleted.
type SweepResult struct {
	Events  int64 `json:"events"`
	Tickets int64 `json:"tickets"`
	// SweptThrough is the highest event id deleted so far; resuming below it is a reset.
	SweptThrough int64 `json:"swept_through"`
}

// Sweep deletes the events that occurred before the window (always a prefix of the log)
// and the expired tickets.
// Errors: service.unavailable.
func (r *Retention) Sweep(ctx context.Context) (SweepResult, error) {
	q := dbq.New(r.pool)
	row, err := q.EventsSweep(ctx, r.now().Add(-r.keep))
	if err != nil {
		return SweepResult{}, pg.Translate(err)
	}
	tickets, err := q.EventTicketsSweep(ctx)
	if err != nil {
		return SweepResult{}, pg.Translate(err)
	}
	return SweepResult{Events: row.Deleted, Tickets: tickets, SweptThrough: row.SweptThrough}, nil
}
