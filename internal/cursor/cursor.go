// Package cursor encodes the opaque keyset cursors of every list in the API. A cursor
// carries a version and the last key of the previous page; callers must treat it as opaque.
// A cursor that does not decode is a client error (400), never a silent restart.
package cursor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
)

// DefaultLimit and MaxLimit bound page sizes everywhere.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

type envelope struct {
	V int             `json:"v"`
	K json.RawMessage `json:"k"`
}

// Encode returns the cursor for key (any JSON-encodable value).
func Encode(key any) string {
	k, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("cursor: encode key: %v", err))
	}
	b, _ := json.Marshal(envelope{V: 1, K: k})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode into key. An empty cursor leaves key untouched and
// reports false.
func Decode(c *string, key any) (bool, error) {
	if c == nil || *c == "" {
		return false, nil
	}
	bad := apperr.Invalid("cursor", "cursor is malformed; pass the next_cursor of a previous page")
	raw, err := base64.RawURLEncoding.DecodeString(*c)
	if err != nil {
		return false, bad
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || e.V != 1 || len(e.K) == 0 {
		return false, bad
	}
	if err := json.Unmarshal(e.K, key); err != nil {
		return false, bad
	}
	return true, nil
}

// Limit returns the page size for a requested limit.
func Limit(l *int) int {
	switch {
	case l == nil || *l <= 0:
		return DefaultLimit
	case *l > MaxLimit:
		return MaxLimit
	}
	return *l
}

// AfterID decodes a cursor holding the last id of the previous page; nil means the first page.
func AfterID(c *string) (*uuid.UUID, error) {
	var last uuid.UUID
	ok, err := Decode(c, &last)
	if err != nil || !ok {
		return nil, err
	}
	return &last, nil
}

// Trim cuts rows fetched with limit n+1 to the page of n and returns the cursor of the next
// page (nil on the last page), keyed by key of the last row kept.
func Trim[T any](rows []T, n int, key func(T) any) ([]T, *string) {
	if len(rows) <= n {
		return rows, nil
	}
	rows = rows[:n]
	c := Encode(key(rows[n-1]))
	return rows, &c
}
