// Package cursor is the one way the API pages through lists: keyset pagination with an
// opaque cursor. A handler answers a list request with Serve, or turns the request's
// cursor and limit into a Request with Parse when the page carries more than items (a
// malformed cursor or a limit out of bounds is a 400 naming the parameter, never a silent
// first page); the service fetches Request.Fetch rows (one more than the page, so it knows
// whether another page follows) after Request.After, and Cut trims them to the Page with
// the cursor of the next one.
//
// How a key becomes a cursor is the Codec's business: JSON (a versioned base64url JSON
// envelope) serves most lists; a list with its own needs (the audit trail signs its
// cursors) brings its own Codec. The bounds of every list's limit come from the spec (see
// Limits).
package cursor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
)

// Codec turns a page key into an opaque cursor and back. Decode returns a validation error
// for anything Encode did not make.
type Codec[K any] interface {
	Encode(key K) string
	Decode(c string) (K, error)
}

// Limits are the bounds of a list's limit parameter. Handlers take them from the spec
// (gen/api's generated <OperationId>PageLimit values, which have the same fields).
type Limits struct {
	Default, Min, Max int
}

// Request is a decoded page request: the key the page starts after (nil for the first
// page) and the page size.
type Request[K any] struct {
	After *K
	Limit int
	codec Codec[K]
}

// Parse decodes a page request: c is the next_cursor of a previous page (nil or empty for
// the first page), limit the requested page size (nil for the default). Errors:
// validation_failed naming cursor or limit.
func Parse[K any](codec Codec[K], c *string, limit *int, l Limits) (Request[K], error) {
	r := Request[K]{Limit: l.Default, codec: codec}
	if limit != nil {
		if *limit < l.Min || *limit > l.Max {
			return r, apperr.Invalid("limit", fmt.Sprintf("limit must be between %d and %d", l.Min, l.Max))
		}
		r.Limit = *limit
	}
	if c != nil && *c != "" {
		k, err := codec.Decode(*c)
		if err != nil {
			return r, err
		}
		r.After = &k
	}
	return r, nil
}

// Serve answers a list request: it parses the page request (c and limit, within l), reads
// the page with read and converts its items with conv. Errors: those of Parse and read.
func Serve[K, T, U any](ctx context.Context, codec Codec[K], c *string, limit *int, l Limits,
	read func(context.Context, Request[K]) (Page[T], error), conv func(T) U) (Page[U], error) {
	r, err := Parse(codec, c, limit, l)
	if err != nil {
		return Page[U]{}, err
	}
	p, err := read(ctx, r)
	if err != nil {
		return Page[U]{}, err
	}
	return Map(p, conv), nil
}

// First returns the request of a list's first page of size limit.
func First[K any](codec Codec[K], limit int) Request[K] {
	return Request[K]{Limit: limit, codec: codec}
}

// Fetch is how many rows to ask the database for: one more than the page.
func (r Request[K]) Fetch() int32 { return int32(r.Limit + 1) }

// Page is one page of a list and the cursor of the next (nil on the last page).
type Page[T any] struct {
	Items []T
	Next  *string
}

// Cut trims rows fetched with r.Fetch to the page and encodes the cursor of the next page
// from the key of the last row kept.
func Cut[T, K any](r Request[K], rows []T, key func(T) K) Page[T] {
	if len(rows) <= r.Limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:r.Limit]
	c := r.codec.Encode(key(rows[len(rows)-1]))
	return Page[T]{Items: rows, Next: &c}
}

// Map converts the items of a page, keeping its cursor.
func Map[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, len(p.Items)), Next: p.Next}
	for i, it := range p.Items {
		out.Items[i] = f(it)
	}
	return out
}

// JSON is the codec of most lists: base64url of {"v":1,"k":<key as JSON>}.
type JSON[K any] struct{}

type envelope struct {
	V int             `json:"v"`
	K json.RawMessage `json:"k"`
}

// Encode returns the cursor of key.
func (JSON[K]) Encode(key K) string {
	k, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("cursor: encode key: %v", err))
	}
	b, _ := json.Marshal(envelope{V: 1, K: k})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode.
func (JSON[K]) Decode(c string) (K, error) {
	var key K
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return key, Malformed()
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || e.V != 1 || len(e.K) == 0 {
		return key, Malformed()
	}
	if err := json.Unmarshal(e.K, &key); err != nil {
		return key, Malformed()
	}
	return key, nil
}

// Malformed is the error of a cursor that does not decode.
func Malformed() error {
	return apperr.Invalid("cursor", "cursor is malformed; pass the next_cursor of a previous page")
}

// The codecs of the common key shapes.
type (
	// ByID pages lists ordered by id.
	ByID = JSON[uuid.UUID]
	// BySeq pages lists ordered by a bigint sequence.
	BySeq = JSON[int64]
	// ByTime pages lists ordered newest first on (time, id).
	ByTime = JSON[TimeID]
)

// TimeID is the key of a list ordered on (time, id).
type TimeID struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

// AtOrNil returns the time of k, nil when k is nil (the first page).
func AtOrNil(k *TimeID) *time.Time {
	if k == nil {
		return nil
	}
	return &k.At
}

// IDOrNil returns the id of k, nil when k is nil (the first page).
func IDOrNil(k *TimeID) *uuid.UUID {
	if k == nil {
		return nil
	}
	return &k.ID
}
