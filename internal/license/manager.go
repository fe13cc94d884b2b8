package license

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
	// installPath is where Install writes when no path is configured; it is read like
	// path, except that its absence is simply no license.
	installPath string
	logger      *slog.Logger

	reload sync.Mutex // serialises Reload
	cur    atomic.Pointer[snapshot]
}

// snapshot is a State and what is needed to re-derive it when the clock moves on.
type snapshot struct {
	lic   *license // nil without a verified license
	state State
	next  time.Time // when state must be re-derived from lic; zero: never
}

// ManagerOption configures a Manager.
type ManagerOption func(*Manager)

// WithInstallPath names the file Install writes when the manager has no path of its own
// (the server passes <data_dir>/license.jwt). Without a path the manager then reads that
// file, and a missing one means no license, without a warning.
func WithInstallPath(path string) ManagerOption {
	return func(m *Manager) { m.installPath = path }
}

// NewManager returns a manager reading the license at path (an empty path means no
// license, unless WithInstallPath names a file) and loads it once; a load error is
// logged, not returned, and leaves the free tier. A nil logger discards.
func NewManager(v *Verifier, path string, logger *slog.Logger, opts ...ManagerOption) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{verifier: v, path: path, logger: logger}
	for _, o := range opts {
		o(m)
	}
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
	return m.load()
}

// load reads the license file and installs what it holds; m.reload is held.
func (m *Manager) load() error {
	path := m.file()
	if path == "" {
		m.cur.Store(&snapshot{state: noLicenseState()})
		return nil
	}
	token, err := readLicenseFile(path)
	switch {
	case m.path == "" && errors.Is(err, fs.ErrNotExist):
		// Nothing was installed through the API yet.
		m.cur.Store(&snapshot{state: noLicenseState()})
		return nil
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
		m.logger.Info("license file is empty: free tier", "path", path)
		return nil
	}
	lic, f := m.verifier.check(token)
	if f != nil {
		m.cur.Store(&snapshot{state: f.state()})
		return fmt.Errorf("verify license %s: %s: %s", path, f.result, f.detail)
	}
	s := m.verifier.snapshot(lic, m.verifier.now())
	m.cur.Store(s)
	attrs := []any{
		"path", path, "status", s.state.Status, "tier", lic.tier, "customer_id", lic.customerID,
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

// file is the license file: the configured path, else the install path.
func (m *Manager) file() string {
	if m.path != "" {
		return m.path
	}
	return m.installPath
}

// ErrNoLicenseFile is Install's error when the manager has no file to write.
var ErrNoLicenseFile = errors.New("install license: no license file is configured")

// NotInForceError is Install's error for a license that does not grant its features now.
type NotInForceError struct {
	// Result is the verification result (one of the Result* constants).
	Result string
	// Reason is a full sentence for the operator.
	Reason string
}

func (e *NotInForceError) Error() string { return e.Reason }

// Install makes token the installation's license when it grants its features now (its
// verification result is valid or grace): it replaces the license file atomically (a
// private temporary file in the same directory, synced, then renamed over the old one)
// and loads it, so Current answers the new state at once. Any other license is refused
// with a *NotInForceError and changes nothing. It returns the state before and after.
func (m *Manager) Install(token string) (before, after State, err error) {
	token = strings.TrimSpace(token)
	r := m.verifier.Verify(token)
	if !r.Valid {
		reason := fmt.Sprintf("The license is not in force (%s).", r.Result)
		if len(r.Warnings) > 0 {
			reason = r.Warnings[0]
		}
		return State{}, State{}, &NotInForceError{Result: r.Result, Reason: reason}
	}
	m.reload.Lock()
	defer m.reload.Unlock()
	path := m.file()
	if path == "" {
		return State{}, State{}, ErrNoLicenseFile
	}
	before = m.Current()
	if err := writeFileAtomic(path, []byte(token+"\n")); err != nil {
		return State{}, State{}, fmt.Errorf("install license: %w", err)
	}
	if err := m.load(); err != nil {
		return State{}, State{}, fmt.Errorf("install license: %w", err)
	}
	return before, m.Current(), nil
}

// writeFileAtomic replaces path with data, mode 0600: readers see the old file or the
// new one, never a part.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
