package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// KeySize is the length of the chain's HMAC key.
const KeySize = 32

// aloneTimeout bounds AppendAlone once the caller's context no longer does.
const aloneTimeout = 10 * time.Second

// ErrUnknownAction is returned for an event whose action is not in Actions.
var ErrUnknownAction = errors.New("audit action is not registered")

// Event is one thing that happened, as a caller reports it.
type Event struct {
	// Action must be registered in Actions; it decides the severity.
	Action Action
	// ActorType is one of ActorUser, ActorServiceAccount, ActorSystem, ActorAnonymous.
	ActorType string
	// ActorID, ResourceType and ResourceID are stored as NULL when empty.
	ActorID      string
	ResourceType string
	ResourceID   string
	// CorrelationID is the request's correlation id (reqinfo), "" for none.
	CorrelationID string
	ClientAddr    string
	// Detail is any JSON-encodable context. Values under secret-like keys, at any depth,
	// are stored as Redacted (see secretLike); the paths are listed in Stored.Redactions.
	Detail map[string]any
	// OccurredAt is when it happened; zero means now. It is stored to the microsecond.
	OccurredAt time.Time
}

// Stored is an event as stored.
type Stored struct {
	ID            uuid.UUID
	Seq           int64
	OccurredAt    time.Time
	RecordedAt    time.Time
	CorrelationID string
	Action        Action
	Severity      Severity
	ActorType     string
	ActorID       *string
	ResourceType  *string
	ResourceID    *string
	ClientAddr    string
	Detail        map[string]any
	Redactions    []string
}

// Writer appends to, lists and verifies the audit trail.
type Writer struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	key  []byte
	now  func() time.Time
}

// NewWriter returns a writer on pool whose chain is keyed by key (from LoadOrCreateKey).
// now is the clock for events without OccurredAt (nil means time.Now). It panics if key is
// not KeySize bytes long: that is a wiring mistake.
func NewWriter(pool *pgxpool.Pool, key []byte, now func() time.Time) *Writer {
	if len(key) != KeySize {
		panic(fmt.Sprintf("audit: NewWriter needs a %d-byte key, got %d bytes", KeySize, len(key)))
	}
	if now == nil {
		now = time.Now
	}
	return &Writer{pool: pool, q: dbq.New(pool), key: append([]byte(nil), key...), now: now}
}

// Append writes e as the next event of the chain inside tx, the caller's transaction that
// makes the change e records, so the change and its event commit or roll back together.
//
// Append locks the chain head until tx ends: concurrent writers take turns, so call it as
// the last statement before commit to keep the wait short (and to take the head lock after
// every other lock, which rules out deadlocks on it). In a pg.WithTx transaction the event
// is inserted in the round trip that commits (pg.AtCommit): a write and its event cost
// the head lock's round trip and nothing more. tx must be READ COMMITTED (pg.WithTx's
// default). Errors: ErrUnknownAction or a bad actor type (programming errors), detail that
// cannot be encoded as JSON, and database errors (translated by pg.Translate).
func (w *Writer) Append(ctx context.Context, tx pgx.Tx, e Event) error {
	return w.AppendLocked(ctx, tx, nil, e)
}

// HeadLock is the chain head, locked in the round trip of a write (LockBehind).
type HeadLock struct {
	head dbq.AuditHeadLockRow
	read bool
}

// LockBehind queues the chain head's lock behind tx's next statement, in its round trip
// (pg.Behind), for the event AppendLocked appends after that statement: a write and its
// event then cost the write's round trip and the commit's, and nothing more. Send the
// write's last statement next, so the head stays the last lock tx takes, and append no
// other event to tx before AppendLocked. It returns nil, queuing nothing, where it cannot
// save the round trip: tx is not from pg.WithTx, or holds an event queued for its commit,
// which the head does not count yet.
func (w *Writer) LockBehind(tx pgx.Tx) *HeadLock {
	if pg.QueuedAtCommit(tx) > 0 {
		return nil
	}
	l := &HeadLock{}
	lock := pg.Statement(func(db pg.DBTX) { _, _ = dbq.New(db).AuditHeadLock(context.Background()) })
	lock.QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&l.head.Seq, &l.head.Mac, &l.head.Now); err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		l.read = true
		return nil
	})
	if !pg.Behind(tx, lock) {
		return nil
	}
	return l
}

// AppendLocked is Append with the head that lock (from LockBehind on tx) locked; a nil
// lock is Append.
func (w *Writer) AppendLocked(ctx context.Context, tx pgx.Tx, lock *HeadLock, e Event) error {
	row, detail, err := w.prepare(e)
	if err != nil {
		return err
	}
	// An event appended earlier in tx may still be queued for the commit: it goes first
	// (and a head lock still queued goes now).
	if err := pg.SendQueued(ctx, tx); err != nil {
		return fmt.Errorf("append audit event: %w", pg.Translate(err))
	}
	q := w.q.WithTx(tx)
	var head dbq.AuditHeadLockRow
	if lock != nil && lock.read {
		head, lock.read = lock.head, false // a lock serves one event
	} else if head, err = q.AuditHeadLock(ctx); err != nil {
		return fmt.Errorf("lock audit head: %w", pg.Translate(err))
	}
	row.Seq = head.Seq + 1
	row.PrevMac = head.Mac
	row.RecordedAt = head.Now
	row.Mac = eventMAC(w.key, &row, detail)
	// The append travels with COMMIT: it raises rather than change nothing, so a head that
	// moved (impossible while the lock is held) rolls the change back with it.
	err = dbq.New(pg.AtCommit(tx)).AuditEventAppend(ctx, dbq.AuditEventAppendParams{
		ID: row.ID, Seq: row.Seq, OccurredAt: row.OccurredAt, RecordedAt: row.RecordedAt,
		CorrelationID: row.CorrelationID, Action: row.Action, Severity: row.Severity,
		ActorType: row.ActorType, ActorID: row.ActorID, ResourceType: row.ResourceType,
		ResourceID: row.ResourceID, ClientAddr: row.ClientAddr, Detail: row.Detail,
		Redactions: row.Redactions, PrevMac: row.PrevMac, Mac: row.Mac,
		CheckpointMac: checkpointMAC(w.key, row.Seq, row.Mac),
	})
	if err != nil {
		return fmt.Errorf("append audit event: %w", pg.Translate(err))
	}
	return nil
}

// AppendAlone writes e in a transaction of its own, for events whose change is a refusal
// (authorization denials, failed sign-ins). It still writes when ctx is cancelled (the
// client went away), within a bounded time, so refusals are never lost.
func (w *Writer) AppendAlone(ctx context.Context, e Event) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), aloneTimeout)
	defer cancel()
	return pg.WithOwnTx(ctx, w.pool, func(tx pgx.Tx) error {
		return w.Append(ctx, tx, e)
	})
}

// prepare validates e and builds its row, without seq, prev_mac, recorded_at and mac; it
// also returns the canonical encoding of the stored detail.
func (w *Writer) prepare(e Event) (dbq.AuditEvent, []byte, error) {
	spec, ok := Actions[e.Action]
	if !ok {
		return dbq.AuditEvent{}, nil, fmt.Errorf("append audit event %q: %w", e.Action, ErrUnknownAction)
	}
	if !validActorType(e.ActorType) {
		return dbq.AuditEvent{}, nil, fmt.Errorf("append audit event %q: actor type %q is not one of %s, %s, %s, %s",
			e.Action, e.ActorType, ActorUser, ActorServiceAccount, ActorSystem, ActorAnonymous)
	}
	raw, canon, redactions, err := encodeDetail(e.Detail)
	if err != nil {
		return dbq.AuditEvent{}, nil, fmt.Errorf("append audit event %q: %w", e.Action, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return dbq.AuditEvent{}, nil, fmt.Errorf("append audit event: %w", err)
	}
	occurred := e.OccurredAt
	if occurred.IsZero() {
		occurred = w.now()
	}
	return dbq.AuditEvent{
		ID:            id,
		OccurredAt:    occurred.UTC().Truncate(time.Microsecond),
		CorrelationID: cleanString(e.CorrelationID),
		Action:        string(e.Action),
		Severity:      string(spec.Severity),
		ActorType:     e.ActorType,
		ActorID:       optional(e.ActorID),
		ResourceType:  optional(e.ResourceType),
		ResourceID:    optional(e.ResourceID),
		ClientAddr:    cleanString(e.ClientAddr),
		Detail:        raw,
		Redactions:    redactions,
	}, canon, nil
}

// encodeDetail turns detail into the JSON stored in jsonb (redacted, NUL-free), the
// canonical encoding of that JSON, and the redacted paths.
func encodeDetail(detail map[string]any) (raw, canon []byte, redactions []string, err error) {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode detail: %w", err)
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("decode detail: %w", err)
	}
	redactions = []string{}
	v = redact(v, "detail", &redactions)
	if raw, err = json.Marshal(v); err != nil {
		return nil, nil, nil, fmt.Errorf("encode detail: %w", err)
	}
	if canon, err = appendCanonical(nil, v); err != nil {
		return nil, nil, nil, err
	}
	return raw, canon, redactions, nil
}

// optional returns nil for "" and the cleaned string otherwise.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	s = cleanString(s)
	return &s
}

// stored converts a row for callers.
func stored(row dbq.AuditEvent) (Stored, error) {
	v, err := decodeJSON(row.Detail)
	if err != nil {
		return Stored{}, fmt.Errorf("decode detail of audit event %d: %w", row.Seq, err)
	}
	detail, _ := v.(map[string]any)
	if detail == nil {
		detail = map[string]any{}
	}
	redactions := row.Redactions
	if redactions == nil {
		redactions = []string{}
	}
	return Stored{
		ID: row.ID, Seq: row.Seq, OccurredAt: row.OccurredAt, RecordedAt: row.RecordedAt,
		CorrelationID: row.CorrelationID, Action: Action(row.Action), Severity: Severity(row.Severity),
		ActorType: row.ActorType, ActorID: row.ActorID, ResourceType: row.ResourceType,
		ResourceID: row.ResourceID, ClientAddr: row.ClientAddr, Detail: detail, Redactions: redactions,
	}, nil
}
