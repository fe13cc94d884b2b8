package logging

import (
	"bytes"
	"io"
	"sync"
)

// DefaultRingSize is how many records a Ring keeps unless told otherwise.
const DefaultRingSize = 5000

// Ring keeps the process's most recent log lines in a bounded circular buffer: the
// support bundle includes them. It is fed by the process logger's output (Tee), so it
// holds exactly what was logged, at the configured level and format. Safe for concurrent
// use.
type Ring struct {
	mu    sync.Mutex
	lines [][]byte
	next  int
	full  bool
}

// NewRing returns a ring holding the last n records (DefaultRingSize when n < 1).
func NewRing(n int) *Ring {
	if n < 1 {
		n = DefaultRingSize
	}
	return &Ring{lines: make([][]byte, n)}
}

func (r *Ring) add(line []byte) {
	r.mu.Lock()
	r.lines[r.next] = line
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// Snapshot returns the kept records, oldest first, as JSON lines.
func (r *Ring) Snapshot() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out bytes.Buffer
	if r.full {
		for _, l := range r.lines[r.next:] {
			out.Write(l)
		}
	}
	for _, l := range r.lines[:r.next] {
		out.Write(l)
	}
	return out.Bytes()
}

// Len returns how many records the ring holds.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full {
		return len(r.lines)
	}
	return r.next
}

// Write keeps each complete line of p as one record (the process's handlers write one
// record per call) and never fails, so the ring can sit beside the real output in an
// io.MultiWriter: Tee.
func (r *Ring) Write(p []byte) (int, error) {
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			r.add(append([]byte(nil), append(rest, '\n')...))
			break
		}
		r.add(append([]byte(nil), rest[:i+1]...))
		rest = rest[i+1:]
	}
	return len(p), nil
}

// Tee returns a writer that writes to w and keeps every line in r; build the process
// logger over it (New) so the ring sees exactly what the log says.
func (r *Ring) Tee(w io.Writer) io.Writer { return io.MultiWriter(w, r) }
