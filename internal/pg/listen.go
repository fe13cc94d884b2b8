package pg

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Subscriber receives the notifications of one channel. Connected(false) means
// notifications may be missed from now on (the connection dropped): caches that rely on
// them must stop serving until Connected(true).
type Subscriber interface {
	Notify(payload string)
	Connected(on bool)
}

// Listener holds one LISTEN connection for every channel the process follows and hands
// each notification to its channel's subscribers, reconnecting with back-off.
type Listener struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	subs   map[string][]Subscriber
}

// NewListener returns a listener on pool; subscribe before Run.
func NewListener(pool *pgxpool.Pool, logger *slog.Logger) *Listener {
	return &Listener{pool: pool, logger: logger, subs: map[string][]Subscriber{}}
}

// Subscribe adds s to channel. It must be called before Run.
func (l *Listener) Subscribe(channel string, s Subscriber) {
	l.subs[channel] = append(l.subs[channel], s)
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.once(ctx)
		l.connected(false)
		if ctx.Err() != nil {
			return
		}
		l.logger.WarnContext(ctx, "notification listener disconnected; retrying", slog.Any("error", err), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (l *Listener) connected(on bool) {
	for _, subs := range l.subs {
		for _, s := range subs {
			s.Connected(on)
		}
	}
}

func (l *Listener) once(ctx context.Context) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for channel := range l.subs {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return err
		}
	}
	l.connected(true)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			// The connection is in an unknown state: do not return it to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			return err
		}
		for _, s := range l.subs[n.Channel] {
			s.Notify(n.Payload)
		}
	}
}
