package tlscert

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// checkInterval is the least time between two looks at the files.
const checkInterval = time.Second

// Reloader serves a certificate pair that it re-reads when the files change
// on disk, so a renewed certificate is picked up without a restart. It is
// safe for concurrent use.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	// cert is the pair being served.
	cert atomic.Pointer[tls.Certificate]
	// nextCheck is the clock reading, in Unix nanoseconds, from which the
	// next handshake looks at the files. The handshake that advances it
	// with compare-and-swap does the look; all others go straight on.
	nextCheck atomic.Int64

	// mu is held by the one goroutine looking at the files; a goroutine
	// that finds it held skips the look instead of waiting.
	mu sync.Mutex
	// certInfo and keyInfo describe the files as last loaded or tried,
	// guarded by mu.
	certInfo, keyInfo os.FileInfo
	// lastProblem is the last stat failure logged, guarded by mu, so a
	// missing file is reported once rather than every second.
	lastProblem string
}

// NewReloader loads the pair at certFile and keyFile and returns a Reloader
// serving it. It returns an error when the pair cannot be read or does not
// parse. logger receives reload notices and warnings (nil discards them);
// now is the clock (nil means time.Now).
func NewReloader(certFile, keyFile string, logger *slog.Logger, now func() time.Time) (*Reloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger, now: now}
	certInfo, keyInfo, err := r.stat()
	if err != nil {
		return nil, fmt.Errorf("tlscert: load certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlscert: load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	r.certInfo, r.keyInfo = certInfo, keyInfo
	r.cert.Store(&cert)
	r.nextCheck.Store(now().Add(checkInterval).UnixNano())
	return r, nil
}

// GetCertificate returns the current certificate, for tls.Config. At most
// once per second it first checks whether the files changed and, if so,
// loads them; a pair that fails to load is logged and the previous
// certificate is returned.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := r.now().UnixNano()
	next := r.nextCheck.Load()
	// A check is due when the time has come, or when the clock has been
	// set back by more than the interval, which would otherwise postpone
	// checks until it caught up.
	if (now >= next || next-now > int64(checkInterval)) &&
		r.nextCheck.CompareAndSwap(next, now+int64(checkInterval)) {
		r.reloadIfChanged()
	}
	return r.cert.Load(), nil
}

// TLSConfig returns a server configuration that takes its certificate from
// r, requires TLS 1.2 or later and offers HTTP/2 and HTTP/1.1.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// reloadIfChanged loads the pair again when either file differs from the
// one last seen, by identity, modification time or size.
func (r *Reloader) reloadIfChanged() {
	if !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()

	certInfo, keyInfo, err := r.stat()
	if err != nil {
		if problem := err.Error(); problem != r.lastProblem {
			r.lastProblem = problem
			r.logger.Warn("tls certificate files unreadable; still serving the previous certificate", "error", err)
		}
		return
	}
	r.lastProblem = ""
	if sameFile(certInfo, r.certInfo) && sameFile(keyInfo, r.keyInfo) {
		return
	}
	// Remember the files even when they fail to load, so a broken pair is
	// parsed and reported once, not every second, and is tried again as
	// soon as either file changes.
	r.certInfo, r.keyInfo = certInfo, keyInfo
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.logger.Warn("tls certificate reload failed; still serving the previous certificate",
			"cert_file", r.certFile, "key_file", r.keyFile, "error", err)
		return
	}
	r.cert.Store(&cert)
	r.logger.Info("tls certificate reloaded",
		"cert_file", r.certFile,
		"subject", cert.Leaf.Subject.String(),
		"serial", cert.Leaf.SerialNumber.Text(16),
		"not_after", cert.Leaf.NotAfter)
}

// stat returns the file information of the certificate and key files.
func (r *Reloader) stat() (certInfo, keyInfo os.FileInfo, err error) {
	certInfo, err = os.Stat(r.certFile)
	if err != nil {
		return nil, nil, err
	}
	keyInfo, err = os.Stat(r.keyFile)
	if err != nil {
		return nil, nil, err
	}
	return certInfo, keyInfo, nil
}

// sameFile reports whether a and b describe the same file with the same
// modification time and size. A file replaced by rename is a different
// file even when its time and size match.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) &&
		a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
