package audit

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

// Page sizes of List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
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
	// Cursor is the NextCursor of the previous page, "" for the first page.
	Cursor string
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
}

// Page is one page of events, newest first. NextCursor is nil on the last page.
type Page struct {
	Items      []Stored
	NextCursor *string
}

// List returns the events matching f, newest first (by seq), one page at a time. Every
// filter is served by an index (see db/migrations/00002_audit.sql and TestListUsesIndexes).
// The API guards it with audit:read. Errors: validation_failed for a malformed cursor (field
// cursor), a limit out of range (limit), an unknown actor type (actor_type) or Until before
// Since (until); database errors.
func (w *Writer) List(ctx context.Context, f Filter) (Page, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return Page{}, apperr.Invalid("limit", fmt.Sprintf("limit must be between 1 and %d", MaxLimit))
	}
	if f.ActorType != "" && !validActorType(f.ActorType) {
		return Page{}, apperr.Invalid("actor_type", fmt.Sprintf("actor_type must be one of %s, %s, %s, %s",
			ActorUser, ActorServiceAccount, ActorSystem, ActorAnonymous))
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		return Page{}, apperr.Invalid("until", "until must not be before since")
	}
	params := dbq.AuditEventListParams{
		Action:        nonEmpty(f.Action),
		CorrelationID: nonEmpty(f.CorrelationID),
		ActorType:     nonEmpty(f.ActorType),
		ResourceType:  nonEmpty(f.ResourceType),
		ResourceID:    nonEmpty(f.ResourceID),
		Since:         f.Since,
		Until:         f.Until,
		RowLimit:      int32(limit + 1),
	}
	if f.Cursor != "" {
		seq, err := w.decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		params.BeforeSeq = &seq
	}

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
	if err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}

	page := Page{Items: make([]Stored, 0, min(len(rows), limit))}
	for i, row := range rows {
		if i == limit {
			next := w.encodeCursor(rows[i-1].Seq)
			page.NextCursor = &next
			break
		}
		s, err := stored(row)
		if err != nil {
			return Page{}, fmt.Errorf("list audit events: %w", err)
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
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
	malformed := apperr.Invalid("cursor", "cursor is malformed")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != cursorSize || b[0] != cursorVersion {
		return 0, malformed
	}
	if !hmac.Equal(b[9:], w.cursorTag(b[:9])) {
		return 0, malformed
	}
	seq := int64(binary.BigEndian.Uint64(b[1:9]))
	if seq < 1 {
		return 0, malformed
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
