package notify

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// The event types published on the notifications topic.
const (
	EventFeedItemAdded     = "feed.item_added"
	EventDeliveryQueued    = "notification.queued"
	EventDeliveryDelivered = "notification.delivered"
	EventDeliveryFailed    = "notification.failed"
	EventDeliveryDead      = "notification.dead"
)

// FeedItem is one item of the in-app feed. Its audience is exactly one of Permission
// (everyone who holds it) and UserID (that user alone): an item is one row whatever the
// number of its readers.
type FeedItem struct {
	Kind     string
	Title    string
	Body     string
	Severity string // "" when the item has none
	// Link is the UI path of the item's subject, such as /alerts?alert=<id>.
	Link       string
	AlertID    *uuid.UUID
	Permission string
	UserID     *uuid.UUID
}

// FeedAddTx adds item to the feed inside the caller's transaction (it appears when the
// transaction commits) and announces it on the notifications topic to its audience.
// Other packages call it to post items, e.g. "an exception awaits your approval".
func FeedAddTx(ctx context.Context, tx pgx.Tx, item FeedItem, at time.Time) (uuid.UUID, error) {
	id, err := feedInsert(ctx, tx, item, at)
	if err != nil {
		return uuid.Nil, err
	}
	return id, publishFeed(ctx, tx, audience(item), 1)
}

// audience is the permission an item's event needs: its audience permission, or
// account:self for an item addressed to one user.
func audience(item FeedItem) string {
	if item.Permission != "" {
		return item.Permission
	}
	return authz.PermAccountSelf
}

// feedInsert writes item without announcing it.
func feedInsert(ctx context.Context, tx pgx.Tx, item FeedItem, at time.Time) (uuid.UUID, error) {
	if (item.Permission == "") == (item.UserID == nil) {
		return uuid.Nil, apperr.Internal(errors.New("a feed item needs exactly one of a permission and a user"))
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, apperr.Internal(err)
	}
	p := dbq.FeedItemInsertParams{ID: id, Kind: item.Kind, Title: item.Title, Body: item.Body, Link: item.Link,
		AlertID: item.AlertID, AudienceUser: item.UserID, Now: at}
	if item.Severity != "" {
		p.Severity = &item.Severity
	}
	if item.Permission != "" {
		p.AudiencePermission = &item.Permission
	}
	if err := dbq.New(tx).FeedItemInsert(ctx, p); err != nil {
		return uuid.Nil, pg.Translate(err)
	}
	return id, nil
}

// publishFeed announces n new items for readers holding perm. The event says only that
// the feed changed: an item for one user reaches every signed-in stream, so it must not
// carry the item's text.
func publishFeed(ctx context.Context, tx pgx.Tx, perm string, n int) error {
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicNotifications, Type: EventFeedItemAdded,
		Permission: perm, Data: map[string]any{"items": n}})
	return err
}

// FeedEntry is a feed item as one reader sees it.
type FeedEntry struct {
	dbq.FeedListRow
	// ReadAt is when the reader read it (alone or with read-all); nil while unread.
	ReadAt *time.Time
}

// reader identifies p's feed: its read-state key, the permissions it holds and its user.
func reader(p *authz.Principal) (key string, perms []string, user *uuid.UUID) {
	perms = make([]string, 0, len(p.Permissions))
	for perm := range p.Permissions {
		perms = append(perms, perm)
	}
	slices.Sort(perms)
	if a := p.Actor(); a.Kind == authz.ActorUser {
		user = &a.ID
	}
	return p.Key(), perms, user
}

// Feed returns a page of p's feed, newest first (only the unread items when unreadOnly),
// and how many items p has unread (up to 1000). Any signed-in principal may read their own.
func (s *Service) Feed(ctx context.Context, p *authz.Principal, unreadOnly bool, page cursor.Request[uuid.UUID]) (cursor.Page[FeedEntry], int, error) {
	key, perms, user := reader(p)
	rows, err := s.q.FeedList(ctx, dbq.FeedListParams{Reader: key, Permissions: perms, UserID: user,
		BeforeID: page.After, UnreadOnly: unreadOnly, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[FeedEntry]{}, 0, pg.Translate(err)
	}
	unread, err := s.q.FeedUnreadCount(ctx, dbq.FeedUnreadCountParams{Reader: key, Permissions: perms, UserID: user})
	if err != nil {
		return cursor.Page[FeedEntry]{}, 0, pg.Translate(err)
	}
	out := cursor.Map(cursor.Cut(page, rows, func(r dbq.FeedListRow) uuid.UUID { return r.ID }), func(r dbq.FeedListRow) FeedEntry {
		e := FeedEntry{FeedListRow: r, ReadAt: r.ItemReadAt}
		if e.ReadAt == nil && r.ReadThrough != nil && bytes.Compare(r.ID[:], r.ReadThrough[:]) <= 0 {
			e.ReadAt = r.WatermarkAt
		}
		return e
	})
	return out, int(unread), nil
}

// MarkRead marks item id read for p. Any signed-in principal, for their own feed.
// Errors: resource.not_found (the item is not in p's feed).
func (s *Service) MarkRead(ctx context.Context, p *authz.Principal, id uuid.UUID) error {
	key, perms, user := reader(p)
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if _, err := q.FeedItemVisible(ctx, dbq.FeedItemVisibleParams{ID: id, Permissions: perms, UserID: user}); err != nil {
			return pg.NotFoundAs(err, apperr.NotFound("The feed item does not exist."))
		}
		return pg.Translate(q.FeedReadInsert(ctx, dbq.FeedReadInsertParams{Reader: key, ItemID: id, Now: s.opts.Now()}))
	})
}

// MarkAllRead marks every item now in p's feed read; later items stay unread. Any
// signed-in principal, for their own feed.
func (s *Service) MarkAllRead(ctx context.Context, p *authz.Principal) error {
	key, perms, user := reader(p)
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if _, err := q.FeedWatermarkAdvance(ctx, dbq.FeedWatermarkAdvanceParams{Reader: key, Permissions: perms,
			UserID: user, Now: s.opts.Now()}); err != nil {
			return pg.Translate(err)
		}
		return pg.Translate(q.FeedReadsPrune(ctx, key))
	})
}
