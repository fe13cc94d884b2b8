package audit

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// cursorVersion is the first byte of a decoded cursor; cursorTagSize bytes of HMAC follow
// the seq, so a cursor that was not issued here is recognised as malformed.
const (
	cursorVersion = 1
	cursorTagSize = 8
	cursorSize    = 1 + 8 + cursorTagSize
)

// Filter selects events; empty fields select everything.
type Filter struct {
	Action        string
	CorrelationID string
	// ActorType, when set, is one of the actor types.
	ActorType    string
	ResourceType string
	ResourceID   string
	// Since and Until bound occurred_at: Since <= occurred_at < Until.
	Since, Until *time.Time
}

// Cursors is the codec of the audit list's cursors (see encodeCursor): they are signed,
// so a cursor not issued by this server is malformed.
func (w *Writer) Cursors() cursor.Codec[int64] { return seqCodec{w: w} }

type seqCodec struct{ w *Writer }

func (c seqCodec) Encode(seq int64) string        { return c.w.encodeCursor(seq) }
func (c seqCodec) Decode(s string) (int64, error) { return c.w.decodeCursor(s) }

// List returns a page of the events matching f, newest first (by seq); page comes from
// cursor.Parse with Cursors. Every filter is served by an index (see
// db/migrations/00002_audit.sql and TestListUsesIndexes). The API guards it with
// audit:read. Errors: validation_failed for an unknown actor type (actor_type) or Until
// before Since (until); database errors.
func (w *Writer) List(ctx context.Context, f Filter, page cursor.Request[int64]) (cursor.Page[Stored], error) {
	var none cursor.Page[Stored]
	if f.ActorType != "" && !validActorType(f.ActorType) {
		return none, apperr.Invalid("actor_type", fmt.Sprintf("actor_type must be one of %s, %s, %s, %s",
			ActorUser, ActorServiceAccount, ActorSystem, ActorAnonymous))
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		return none, apperr.Invalid("until", "until must not be before since")
	}
	params := dbq.AuditEventListParams{
		Action:        nonEmpty(f.Action),
		CorrelationID: nonEmpty(f.CorrelationID),
		ActorType:     nonEmpty(f.ActorType),
		ResourceType:  nonEmpty(f.ResourceType),
		ResourceID:    nonEmpty(f.ResourceID),
		Since:         f.Since,
		Until:         f.Until,
		BeforeSeq:     page.After,
		RowLimit:      page.Fetch(),
	}

	var rows []dbq.AuditEvent
	var err error
	if unfiltered(params) {
		// The trail as it is, newest first: one statement on a cached plan.
		before := int64(math.MaxInt64)
		if page.After != nil {
			before = *page.After
		}
		rows, err = w.q.AuditEventListAll(ctx, dbq.AuditEventListAllParams{BeforeSeq: before, RowLimit: page.Fetch()})
	} else {
		rows, err = w.listFiltered(ctx, params)
	}
	if err != nil {
		return none, fmt.Errorf("list audit events: %w", pg.Translate(err))
	}
	cut := cursor.Cut(page, rows, func(r dbq.AuditEvent) int64 { return r.Seq })

	out := cursor.Page[Stored]{Items: make([]Stored, 0, len(cut.Items)), Next: cut.Next}
	for _, row := range cut.Items {
		s, err := stored(row)
		if err != nil {
			return none, fmt.Errorf("list audit events: %w", err)
		}
		out.Items = append(out.Items, s)
	}
	return out, nil
}

// encodeCursor returns the opaque cursor for the page after seq: base64url of version,
// seq, and a truncated HMAC of both.
func (w *Writer) encodeCursor(seq int64) string {
	b := make([]byte, 0, cursorSize)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, w.cursorTag(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the seq of a cursor made by encodeCursor, or a validation error.
func (w *Writer) decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != cursorSize || b[0] != cursorVersion {
		return 0, cursor.Malformed()
	}
	if !hmac.Equal(b[9:], w.cursorTag(b[:9])) {
		return 0, cursor.Malformed()
	}
	seq := int64(binary.BigEndian.Uint64(b[1:9]))
	if seq < 1 {
		return 0, cursor.Malformed()
	}
	return seq, nil
}

func (w *Writer) cursorTag(msg []byte) []byte {
	return sum(w.key, append([]byte(cursorDomain), msg...))[:cursorTagSize]
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// unfiltered reports whether p filters nothing (the page position aside).
func unfiltered(p dbq.AuditEventListParams) bool {
	return p.Action == nil && p.CorrelationID == nil && p.ActorType == nil && p.ResourceType == nil &&
		p.ResourceID == nil && p.Since == nil && p.Until == nil
}

// listFiltered runs AuditEventList planned for its actual filters (AuditPlanPerCall), so
// each filter uses its index.
func (w *Writer) listFiltered(ctx context.Context, params dbq.AuditEventListParams) ([]dbq.AuditEvent, error) {
	var rows []dbq.AuditEvent
	err := pg.WithTx(ctx, w.pool, func(tx pgx.Tx) error {
		q := w.q.WithTx(tx)
		if err := q.AuditPlanPerCall(ctx); err != nil {
			return err
		}
		var err error
		rows, err = q.AuditEventList(ctx, params)
		return err
	})
	return rows, err
}
