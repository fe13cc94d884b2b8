package license

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Manager holds the installation's current license State, read from a license file
// holding one token. Current is lock-free; Reload swaps in a new State atomically.
type Manager struct {
	verifier *Verifier
	path     string
	logger   *slog.Logger

	reload sync.Mutex // serialises Reload
	cur    atomic.Pointer[snapshot]
}

// snapshot is a State and what is needed to re-derive it when the clock moves on.
type snapshot struct {
	lic   *license // nil without a verified license
	state State
	next  time.Time // when state must be re-derived from lic; zero: never
}

// NewManager returns a manager reading the license at path (an empty path means no
// license) and loads it once; a load error is logged, not returned, and leaves the free
// tier. A nil logger discards.
func NewManager(v *Verifier, path string, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{verifier: v, path: path, logger: logger}
	m.cur.Store(&snapshot{state: noLicenseState()})
	if err := m.Reload(); err != nil {
		logger.Error("load license", "err", err)
	}
	return m
}

// Current returns the State in force now. It takes no lock and copies nothing shared, so
// callers may keep or modify what it returns.
func (m *Manager) Current() State {
	for {
		s := m.cur.Load()
		if s.next.IsZero() {
			return s.state.clone()
		}
		now := m.verifier.now()
		if now.Before(s.next) {
			return s.state.clone()
		}
		ns := m.verifier.snapshot(s.lic, now)
		if m.cur.CompareAndSwap(s, ns) {
			return ns.state.clone()
		}
	}
}

// Reload reads the license file again and installs what it holds. The server keeps
// running whatever happens: a missing file installs no_license, an unreadable file or an
// invalid license installs invalid (free features), and the error is returned for the
// caller to log. An empty file means no license and is not an error.
func (m *Manager) Reload() error {
	m.reload.Lock()
	defer m.reload.Unlock()
	if m.path == "" {
		m.cur.Store(&snapshot{state: noLicenseState()})
		return nil
	}
	token, err := readLicenseFile(m.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st := noLicenseState()
		st.Warnings = []string{"The license file does not exist. Only free features are enabled."}
		m.cur.Store(&snapshot{state: st})
		return fmt.Errorf("read license file: %w", err)
	case err != nil:
		st := noLicenseState()
		st.Status = StatusInvalid
		st.Warnings = []string{"The license file cannot be read. Only free features are enabled."}
		m.cur.Store(&snapshot{state: st})
		return fmt.Errorf("read license file: %w", err)
	case token == "":
		m.cur.Store(&snapshot{state: noLicenseState()})
		m.logger.Info("license file is empty: free tier", "path", m.path)
		return nil
	}
	lic, f := m.verifier.check(token)
	if f != nil {
		m.cur.Store(&snapshot{state: f.state()})
		return fmt.Errorf("verify license %s: %s: %s", m.path, f.result, f.detail)
	}
	s := m.verifier.snapshot(lic, m.verifier.now())
	m.cur.Store(s)
	attrs := []any{
		"path", m.path, "status", s.state.Status, "tier", lic.tier, "customer_id", lic.customerID,
		"expires_at", lic.expiresAt, "kid", lic.kid,
	}
	if len(s.state.Warnings) > 0 {
		m.logger.Warn("license loaded", append(attrs, "warnings", s.state.Warnings)...)
	} else {
		m.logger.Info("license loaded", attrs...)
	}
	return nil
}

// snapshot judges a verified license at now.
func (v *Verifier) snapshot(lic *license, now time.Time) *snapshot {
	e := v.evaluate(lic, now)
	return &snapshot{lic: lic, state: e.state, next: e.next}
}

// readLicenseFile returns the file's token, trimmed; at most maxTokenBytes+1 are read, so
// an oversized file fails verification as malformed.
func readLicenseFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenBytes+1))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
