package logging

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// BufferedWriter batches log lines into fewer writes: at a busy server one write per
// request line costs a system call each. Lines reach w when the buffer fills, at most
// flushEvery after they were written, and on Close.
type BufferedWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBufferedWriter starts a writer that flushes to w every flushEvery.
func NewBufferedWriter(w io.Writer, flushEvery time.Duration) *BufferedWriter {
	b := &BufferedWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

// Write implements io.Writer; one call is one log line, kept whole.
func (b *BufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Flush writes out what is buffered.
func (b *BufferedWriter) Flush() {
	b.mu.Lock()
	_ = b.buf.Flush()
	b.mu.Unlock()
}

// Close stops the flusher and writes out the rest.
func (b *BufferedWriter) Close() error {
	close(b.stop)
	<-b.done
	b.Flush()
	return nil
}
