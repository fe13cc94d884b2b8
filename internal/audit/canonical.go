package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	dbq "github.com/openwatch/openwatch/gen/db"
)

// Domain separation: a MAC of one kind can never pass for another.
const (
	eventDomain      = "openwatch.audit.event.v1"
	checkpointDomain = "openwatch.audit.checkpoint.v1"
	cursorDomain     = "openwatch.audit.cursor.v1"
)

// macSize is the length of an HMAC-SHA256.
const macSize = sha256.Size

// genesisMAC is the mac of the head before the first event, and the prev_mac of the first.
var genesisMAC = make([]byte, macSize)

// eventMAC returns HMAC-SHA256 under key over the canonical encoding of every stored column
// of row except mac itself. detail is the canonical encoding of the row's detail
// (canonicalDetail), which is the same before and after a round trip through jsonb.
// Timestamps count as microseconds since the Unix epoch, as PostgreSQL stores them.
func eventMAC(key []byte, row *dbq.AuditEvent, detail []byte) []byte {
	b := make([]byte, 0, 256+len(detail))
	b = appendString(b, eventDomain)
	b = binary.BigEndian.AppendUint64(b, uint64(row.Seq))
	b = append(b, row.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(row.OccurredAt.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(row.RecordedAt.UnixMicro()))
	b = appendString(b, row.CorrelationID)
	b = appendString(b, row.Action)
	b = appendString(b, row.Severity)
	b = appendString(b, row.ActorType)
	b = appendOptional(b, row.ActorID)
	b = appendOptional(b, row.ResourceType)
	b = appendOptional(b, row.ResourceID)
	b = appendString(b, row.ClientAddr)
	b = appendBytes(b, detail)
	b = binary.BigEndian.AppendUint64(b, uint64(len(row.Redactions)))
	for _, r := range row.Redactions {
		b = appendString(b, r)
	}
	b = appendBytes(b, row.PrevMac)
	return sum(key, b)
}

// checkpointMAC signs the head of the chain: HMAC(key, "checkpoint" || seq || mac).
func checkpointMAC(key []byte, seq int64, mac []byte) []byte {
	b := make([]byte, 0, 64+len(mac))
	b = appendString(b, checkpointDomain)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = appendBytes(b, mac)
	return sum(key, b)
}

func sum(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return appendString(append(b, 1), *s)
}

// decodeJSON decodes a JSON document keeping numbers as written (json.Number).
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// canonicalDetail returns the canonical encoding of a detail document as stored in jsonb.
func canonicalDetail(stored []byte) ([]byte, error) {
	v, err := decodeJSON(stored)
	if err != nil {
		return nil, fmt.Errorf("decode detail: %w", err)
	}
	return appendCanonical(nil, v)
}

// appendCanonical appends the canonical encoding of v, a value decoded from JSON with
// UseNumber: a type tag, then lengths and contents, object keys sorted bytewise, numbers
// normalised (canonicalNumber). jsonb keeps neither key order, nor number spelling, nor
// string escapes, so the encoding depends on none of them.
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 'z'), nil
	case bool:
		if v {
			return append(b, 't'), nil
		}
		return append(b, 'f'), nil
	case json.Number:
		return appendString(append(b, 'n'), canonicalNumber(string(v))), nil
	case string:
		return appendString(append(b, 's'), v), nil
	case []any:
		b = binary.BigEndian.AppendUint64(append(b, 'a'), uint64(len(v)))
		var err error
		for _, e := range v {
			if b, err = appendCanonical(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.BigEndian.AppendUint64(append(b, 'o'), uint64(len(v)))
		var err error
		for _, k := range keys {
			b = appendString(b, k)
			if b, err = appendCanonical(b, v[k]); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("unexpected %T in JSON value", v)
}

// canonicalNumber spells a JSON number as [-]<digits>e<exponent> with no leading or trailing
// zeros in digits, so 1500, 1.5e3, 15e2 and 1500.00 (PostgreSQL's numeric keeps the scale)
// all read 15e2, and every zero reads 0. It does no arithmetic, so it is exact and cheap for
// any number. A number it cannot parse is returned as written.
func canonicalNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	m := strings.TrimPrefix(s, "-")
	exp := int64(0)
	if i := strings.IndexAny(m, "eE"); i >= 0 {
		e, err := strconv.ParseInt(strings.TrimPrefix(m[i+1:], "+"), 10, 64)
		if err != nil {
			return s
		}
		exp, m = e, m[:i]
	}
	intPart, frac, _ := strings.Cut(m, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	if trimmed == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + trimmed + "e" + strconv.FormatInt(exp, 10)
}
