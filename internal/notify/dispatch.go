package notify

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// TransitionsChannel is the NOTIFY channel alert transitions are announced on (the alert
// package sends it when it records a transition).
const TransitionsChannel = "openwatch_alert_transitions"

// notifying lists the alert transitions that send notices; the others are only history.
var notifying = map[string]bool{"raised": true, "resolved": true, "unsilenced": true}

// inFeed lists the alert transitions that post a feed item to alert:read.
var inFeed = map[string]string{"raised": "alert.raised", "resolved": "alert.resolved"}

// DispatcherOptions tune a Dispatcher.
type DispatcherOptions struct {
	// Sweep is how often pending transitions are looked for without a wake-up (default 5 s):
	// the safety net for a notification missed while the listener reconnected.
	Sweep time.Duration
	// Batch is how many transitions one transaction dispatches (default 200).
	Batch int
}

// Dispatcher turns committed alert transitions into deliveries and feed items. It wakes
// on TransitionsChannel (subscribe it to a pg.Listener) and every Sweep, then drains the
// pending transitions in batches. Several dispatchers, in one process or many, split the
// work: each batch locks its rows with SKIP LOCKED, so a transition is dispatched once.
// Alerting never waits for it: the alert's transaction only writes the outbox row.
type Dispatcher struct {
	svc  *Service
	wake chan struct{}
	opts DispatcherOptions
}

// NewDispatcher returns a dispatcher queueing through s.
func (s *Service) NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Sweep <= 0 {
		o.Sweep = 5 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	return &Dispatcher{svc: s, wake: make(chan struct{}, 1), opts: o}
}

// Notify implements pg.Subscriber: a transition committed.
func (d *Dispatcher) Notify(string) {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Connected implements pg.Subscriber: after a reconnect, look for what was missed.
func (d *Dispatcher) Connected(on bool) {
	if on {
		d.Notify("")
	}
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Sweep)
	defer t.Stop()
	for {
		d.Drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// Drain dispatches batches until none is left (or one fails, which is logged; the next
// wake-up or sweep retries it). It returns how many transitions it dispatched.
func (d *Dispatcher) Drain(ctx context.Context) int {
	total := 0
	for ctx.Err() == nil {
		n, err := d.DispatchBatch(ctx)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				d.svc.opts.Logger.WarnContext(ctx, "alert transition dispatch failed", slog.Any("error", err))
			}
			break
		}
		if n < d.opts.Batch {
			break
		}
	}
	return total
}

// DispatchBatch dispatches up to Batch pending transitions in one transaction: for each
// transition that notifies, one delivery per matching channel (skipped when the alert is
// suppressed by maintenance) and, for raised and resolved, one feed item for alert:read
// (none for a suppressed alert: maintenance keeps it out of people's way, the alert list
// still records it); then it marks them dispatched. It returns how many it took.
func (d *Dispatcher) DispatchBatch(ctx context.Context) (int, error) {
	s := d.svc
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		rows, err := q.AlertTransitionClaim(ctx, int32(d.opts.Batch))
		if err != nil {
			return pg.Translate(err)
		}
		n = len(rows)
		if n == 0 {
			return nil
		}
		var chans []dbq.NotificationChannel
		if slices.ContainsFunc(rows, func(r dbq.AlertTransitionClaimRow) bool { return notifying[r.Transition] }) {
			if chans, err = q.NotifyChannelListEnabled(ctx); err != nil {
				return pg.Translate(err)
			}
		}
		now := s.opts.Now()
		ids := make([]uuid.UUID, n)
		queued, items := 0, 0
		for i, r := range rows {
			ids[i] = r.ID
			if !notifying[r.Transition] {
				continue
			}
			alertID := r.AlertID
			_, k, err := s.enqueue(ctx, tx, chans, Notice{AlertID: &alertID, Transition: r.Transition, Severity: r.Severity,
				AlertType: r.AlertType, HostID: r.HostID, Hostname: r.Hostname, RuleID: r.RuleID, Tags: r.HostTags,
				Title: r.Title, Body: r.Body, Suppressed: r.Suppressed}, r.GroupID)
			if err != nil {
				return err
			}
			queued += k
			if kind, ok := inFeed[r.Transition]; ok && !r.Suppressed {
				title := r.Title
				if r.Transition == "resolved" {
					title = "Resolved: " + r.Title
				}
				if _, err := feedInsert(ctx, tx, FeedItem{Kind: kind, Title: title, Body: r.Body, Severity: r.Severity,
					Link: "/alerts?alert=" + alertID.String(), AlertID: &alertID, Permission: authz.PermAlertRead}, now); err != nil {
					return err
				}
				items++
			}
		}
		if err := q.AlertTransitionMarkNotified(ctx, dbq.AlertTransitionMarkNotifiedParams{Now: now, Ids: ids}); err != nil {
			return pg.Translate(err)
		}
		// The events come last: publishing takes the event log's lock until commit, which
		// must not be held while waiting for any row lock (an alert action takes its row,
		// then that lock).
		if err := publishQueued(ctx, tx, queued); err != nil {
			return err
		}
		if items > 0 {
			return publishFeed(ctx, tx, authz.PermAlertRead, items)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
