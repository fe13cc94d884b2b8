// Package events is the live event stream: a durable, ordered log of what happened
// (liveness changes, discovery and intelligence events, job progress, alerts) that the
// server streams to clients as Server-Sent Events. Producers call Publish inside the
// transaction of the change; the commit makes the event visible and wakes every serve
// process through PostgreSQL NOTIFY on Channel, so an event produced by a worker process
// reaches clients connected to any replica.
//
// Each serve process runs one Broker: it follows Channel through pg.Listener, reads each
// new event once and fans it out to the process's streams, filtered by topic and by the
// reader's permission (an event carries the permission needed to see it). A client that
// reconnects with Last-Event-ID first gets the retained events it missed from the table,
// then live ones, with no gap or duplicate; one resuming before the retention horizon gets
// a `reset` event first. A stream that falls behind is closed rather than slowing the
// others. Tickets lets browsers (EventSource sends no headers) authenticate one stream
// with a single-use, 30-second ticket stored hashed in the database. Retention, a periodic
// River job, deletes events older than DefaultRetention and expired tickets.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// Channel is the NOTIFY channel that carries the id of each new event.
const Channel = "openwatch_events"

// Topic groups events; clients subscribe to topics.
type Topic string

// The topics.
const (
	TopicLiveness     Topic = "liveness"
	TopicDiscovery    Topic = "discovery"
	TopicIntelligence Topic = "intelligence"
	TopicJobs         Topic = "jobs"
	TopicAlerts       Topic = "alerts"
	TopicScans        Topic = "scans"
	// TopicNotifications carries notification deliveries and in-app feed items.
	TopicNotifications Topic = "notifications"
)

// Topics lists every topic.
var Topics = []Topic{TopicLiveness, TopicDiscovery, TopicIntelligence, TopicJobs, TopicAlerts, TopicScans, TopicNotifications}

// Event is one event to publish.
type Event struct {
	Topic Topic
	// Type names what happened, such as "host.state_changed".
	Type   string
	HostID *uuid.UUID
	// Permission is what a reader needs to receive the event (for example host:read).
	Permission string
	// Data is encoded as the event's JSON data object.
	Data any
}

// Published is the id and time of a published event.
type Published struct {
	ID         int64
	OccurredAt time.Time
}

// Publish appends ev to the log inside tx; it becomes visible, and is pushed to streams,
// when tx commits. The correlation id of ctx travels with it.
func Publish(ctx context.Context, tx pgx.Tx, ev Event) (Published, error) {
	if !validType(ev.Type) {
		return Published{}, fmt.Errorf("events: invalid event type %q", ev.Type)
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return Published{}, fmt.Errorf("encode event data: %w", err)
	}
	if ev.Data == nil || string(data) == "null" {
		data = []byte("{}")
	}
	if data[0] != '{' {
		return Published{}, fmt.Errorf("events: data of %s must encode as a JSON object", ev.Type)
	}
	// In a pg.WithTx transaction an event costs one round trip: the publish lock travels
	// ahead of the insert and the notification with the commit (NOTIFY is delivered at
	// commit wherever it is sent in the transaction).
	q := dbq.New(tx)
	lock := pg.Statement(func(db pg.DBTX) { _ = dbq.New(db).EventsLockPublish(ctx) })
	if !pg.Ahead(tx, lock) {
		if err := q.EventsLockPublish(ctx); err != nil {
			return Published{}, pg.Translate(err)
		}
	}
	row, err := q.EventInsert(ctx, dbq.EventInsertParams{Topic: string(ev.Topic), Type: ev.Type, HostID: ev.HostID,
		Permission: ev.Permission, CorrelationID: reqinfo.CorrelationID(ctx), Data: data})
	if err != nil {
		return Published{}, pg.Translate(err)
	}
	if err := dbq.New(pg.AtCommit(tx)).EventNotify(ctx, strconv.FormatInt(row.ID, 10)); err != nil {
		return Published{}, pg.Translate(err)
	}
	return Published{ID: row.ID, OccurredAt: row.OccurredAt}, nil
}

// validType reports whether t can be an SSE event name: 1 to 64 of a-z, 0-9, '.', '_' and '-'
// (no spaces or line breaks, which would corrupt the stream).
func validType(t string) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
