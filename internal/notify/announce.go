package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// AnnounceInterval is how often the outcomes of delivery attempts are published.
const AnnounceInterval = 250 * time.Millisecond

// announceIDs bounds the delivery ids one event lists.
const announceIDs = 100

// outcomes collects the outcomes of this process's delivery attempts until the announcer
// publishes them. Publishing each in its attempt's transaction would serialize every
// attempt on the event log's lock for the time of a durable commit; one event per
// status every AnnounceInterval keeps the stream live at any rate. An outcome not yet
// published when the process stops is not announced (the deliveries list has it).
type outcomes struct {
	mu      sync.Mutex
	pending map[string][]uuid.UUID
}

func (o *outcomes) add(d Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		o.pending = map[string][]uuid.UUID{}
	}
	o.pending[d.Status] = append(o.pending[d.Status], d.ID)
}

func (o *outcomes) take() map[string][]uuid.UUID {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.pending
	o.pending = nil
	return p
}

// RunAnnouncer publishes the outcomes of delivery attempts on the notifications topic
// (notification.delivered, .failed, .dead: the count and up to 100 delivery ids) every
// AnnounceInterval until ctx ends. It runs where jobs are worked.
func (s *Service) RunAnnouncer(ctx context.Context) {
	t := time.NewTicker(AnnounceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.announce(context.WithoutCancel(ctx))
			return
		case <-t.C:
			s.announce(ctx)
		}
	}
}

// announce publishes what was collected, one event per status, in one transaction.
func (s *Service) announce(ctx context.Context) {
	p := s.outcomes.take()
	if len(p) == 0 {
		return
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		for _, status := range []string{StatusDelivered, StatusFailed, StatusDead} {
			ids := p[status]
			if len(ids) == 0 {
				continue
			}
			typ := map[string]string{StatusDelivered: EventDeliveryDelivered, StatusFailed: EventDeliveryFailed, StatusDead: EventDeliveryDead}[status]
			if _, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicNotifications, Type: typ,
				Permission: authz.PermNotifyRead, Data: map[string]any{"status": status, "deliveries": len(ids),
					"delivery_ids": ids[:min(len(ids), announceIDs)]}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "announce delivery outcomes", slog.Any("error", err))
	}
}
