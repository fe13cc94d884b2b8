// Package reqinfo carries facts about the current request through a context: its
// correlation id and the client it came from. The HTTP layer sets them; services, the log
// handler and (later) audit and job rows read them.
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Info describes the request a context belongs to.
type Info struct {
	CorrelationID string
	ClientAddr    string
	UserAgent     string
	// Host is the request's Host header and TLS whether it came over TLS: with them a
	// handler can name this server as the client reached it (single sign-on's redirect
	// URI when no public URL is configured).
	Host string
	TLS  bool
	// Operation is the operationId the request was routed to, set by the HTTP server once
	// routed ("" before, and for requests no operation takes): the metrics label.
	Operation string
}

type infoKey struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// From returns the request info in ctx, or an empty Info.
func From(ctx context.Context) *Info {
	if info, ok := ctx.Value(infoKey{}).(*Info); ok {
		return info
	}
	return &Info{}
}

// CorrelationID returns the correlation id in ctx, or "".
func CorrelationID(ctx context.Context) string {
	if info, ok := ctx.Value(infoKey{}).(*Info); ok {
		return info.CorrelationID
	}
	return ""
}

// ValidCorrelationID reports whether a client-supplied id matches ^[A-Za-z0-9_-]{1,64}$.
func ValidCorrelationID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewCorrelationID returns a new 26-character id that sorts by creation time: 48 bits of
// Unix milliseconds followed by 80 random bits, in Crockford base32 (the ULID layout).
func NewCorrelationID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	_, _ = rand.Read(b[6:])
	var out [26]byte
	// 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
