package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// Request is what the access log says of one request.
type Request struct {
	Method     string
	Path       string
	Status     int
	Bytes      int64
	DurationMS float64
	Client     string
}

// RequestLogger writes access log lines faster than slog can: a busy server writes one
// per request. Loggers from New provide it (RequestLoggerOf).
type RequestLogger interface {
	// Enabled reports whether a line at level would be written.
	Enabled(level slog.Level) bool
	// LogRequest writes the "request" line of r at level, with the correlation id of ctx.
	LogRequest(ctx context.Context, level slog.Level, r Request)
}

// RequestLoggerOf returns the fast request logger behind l, or nil when l does not have
// one (its lines then go through slog as any other).
func RequestLoggerOf(l *slog.Logger) RequestLogger {
	if h, ok := l.Handler().(correlationHandler); ok && h.json != nil {
		return h.json
	}
	return nil
}

// jsonLines writes request lines in exactly the form slog's JSONHandler gives the record
// (time, level, msg, the attributes in order, correlation_id last), each with one Write.
type jsonLines struct {
	w     io.Writer
	level slog.Leveler
	now   func() time.Time
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (j *jsonLines) Enabled(level slog.Level) bool { return level >= j.level.Level() }

func (j *jsonLines) LogRequest(ctx context.Context, level slog.Level, r Request) {
	if !j.Enabled(level) {
		return
	}
	bp := linePool.Get().(*[]byte)
	b := appendRequestLine((*bp)[:0], j.now(), level, r, reqinfo.CorrelationID(ctx))
	_, _ = j.w.Write(b)
	*bp = b
	linePool.Put(bp)
}

func appendRequestLine(b []byte, t time.Time, level slog.Level, r Request, correlationID string) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendString(b, level.String())
	b = append(b, `,"msg":"request","method":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, r.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, r.DurationMS)
	b = append(b, `,"client":`...)
	b = appendString(b, r.Client)
	if correlationID != "" {
		b = append(b, `,"correlation_id":`...)
		b = appendString(b, correlationID)
	}
	return append(b, "}\n"...)
}

// appendFloat appends f as encoding/json does (which slog uses for floats).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, `"!ERROR:unsupported value"`...) // never a duration
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped as slog's JSONHandler escapes it:
// quote, backslash and control characters, U+2028 and U+2029, and invalid UTF-8 as
// U+FFFD (HTML characters are left alone).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
