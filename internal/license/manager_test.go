package license

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeLicense replaces the file atomically, as an operator's tooling would.
func writeLicense(t testing.TB, path, token string) {
	t.Helper()
	require.NoError(t, replaceFile(path, token))
}

func replaceFile(path, token string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func TestManagerReloadPicksUpReplacedFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := filepath.Join(t.TempDir(), "license.jwt")
	writeLicense(t, path, f.mint(t, nil))

	m := NewManager(f.verifier, path, nil)
	st := m.Current()
	require.Equal(t, TierPlus, st.Tier)
	require.Equal(t, StatusActive, st.Status)

	writeLicense(t, path, f.mint(t, func(c *Claims) { c.Tier = TierEnterprise }))
	require.Equal(t, TierPlus, m.Current().Tier, "nothing changes before Reload")
	require.NoError(t, m.Reload())
	require.Equal(t, TierEnterprise, m.Current().Tier)

	writeLicense(t, path, "garbage")
	err := m.Reload()
	require.ErrorContains(t, err, ResultMalformed)
	st = m.Current()
	require.Equal(t, StatusInvalid, st.Status)
	require.Equal(t, TierFree, st.Tier)
	require.False(t, st.Has(FeatureAuditExport))
	require.NotEmpty(t, st.Warnings)

	writeLicense(t, path, "")
	require.NoError(t, m.Reload(), "an empty file is no license")
	require.Equal(t, StatusNoLicense, m.Current().Status)

	require.NoError(t, os.Remove(path))
	err = m.Reload()
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.Equal(t, StatusNoLicense, m.Current().Status)
}

func TestManagerMissingFileNoLicense(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var m *Manager
	require.NotPanics(t, func() {
		m = NewManager(f.verifier, filepath.Join(t.TempDir(), "absent.jwt"), nil)
	})
	st := m.Current()
	require.Equal(t, StatusNoLicense, st.Status)
	require.Equal(t, TierFree, st.Tier)
	require.Empty(t, st.Features)
	require.NotEmpty(t, st.Warnings)
	require.ErrorIs(t, m.Reload(), fs.ErrNotExist)
}

func TestManagerNoPathNoLicense(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := NewManager(f.verifier, "", nil)
	require.NoError(t, m.Reload())
	require.Equal(t, State{Tier: TierFree, Status: StatusNoLicense, Features: []Feature{}}, m.Current())
}

func TestManagerUnreadableFileInvalid(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dir := t.TempDir() // a directory cannot be read as a file
	m := NewManager(f.verifier, dir, nil)
	require.Error(t, m.Reload())
	st := m.Current()
	require.Equal(t, StatusInvalid, st.Status)
	require.Equal(t, TierFree, st.Tier)
}

func TestManagerOversizedFileInvalid(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := filepath.Join(t.TempDir(), "license.jwt")
	tok := f.mint(t, nil)
	require.NoError(t, os.WriteFile(path, []byte(tok+string(make([]byte, maxTokenBytes))), 0o600))
	m := NewManager(f.verifier, path, nil)
	require.Error(t, m.Reload())
	require.Equal(t, StatusInvalid, m.Current().Status)
}

func TestManagerStateAgesWithoutReload(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := f.clock.Now()
	day := 24 * time.Hour
	path := filepath.Join(t.TempDir(), "license.jwt")
	writeLicense(t, path, f.mint(t, func(c *Claims) {
		c.NotBefore = now.Add(time.Hour)
		c.ExpiresAt = now.Add(60 * day)
	}))
	m := NewManager(f.verifier, path, nil)
	require.Equal(t, StatusInvalid, m.Current().Status, "not valid yet")

	f.clock.Set(now.Add(2 * time.Hour))
	st := m.Current()
	require.Equal(t, StatusActive, st.Status)
	require.Empty(t, st.Warnings)

	f.clock.Set(now.Add(50 * day))
	require.Equal(t, []string{"The license expires on 2026-04-30T12:00:00Z, in 10 days."}, m.Current().Warnings)
	f.clock.Set(now.Add(51*day + time.Minute))
	require.Equal(t, []string{"The license expires on 2026-04-30T12:00:00Z, in 9 days."}, m.Current().Warnings)

	f.clock.Set(now.Add(61 * day))
	st = m.Current()
	require.Equal(t, StatusGrace, st.Status)
	require.True(t, st.InGracePeriod)
	require.True(t, st.Has(FeatureAuditExport))

	f.clock.Set(now.Add(75 * day))
	st = m.Current()
	require.Equal(t, StatusExpired, st.Status)
	require.False(t, st.Has(FeatureAuditExport))
}

func TestManagerCurrentCopies(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := filepath.Join(t.TempDir(), "license.jwt")
	writeLicense(t, path, f.mint(t, func(c *Claims) { c.ExpiresAt = f.clock.Now().Add(24 * time.Hour) }))
	m := NewManager(f.verifier, path, nil)
	st := m.Current()
	require.NotEmpty(t, st.Features)
	require.NotEmpty(t, st.Warnings)
	st.Features[0] = "changed"
	st.Warnings[0] = "changed"
	*st.ExpiresAt = time.Time{}
	again := m.Current()
	require.Equal(t, FeatureAuditExport, again.Features[0])
	require.NotEqual(t, "changed", again.Warnings[0])
	require.False(t, again.ExpiresAt.IsZero())
}

func TestManagerConcurrentCurrentAndReload(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := filepath.Join(t.TempDir(), "license.jwt")
	// Licenses expiring in 20 days, with the clock stepping through 24 days below, so
	// readers also re-derive the state (countdown, expiry, grace) while Reload swaps it.
	exp := f.clock.Now().Add(20 * 24 * time.Hour)
	plus := f.mint(t, func(c *Claims) { c.ExpiresAt = exp })
	enterprise := f.mint(t, func(c *Claims) { c.Tier = TierEnterprise; c.ExpiresAt = exp })
	writeLicense(t, path, plus)
	m := NewManager(f.verifier, path, nil)

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := m.Current()
				if !st.Has(FeatureAuditExport) || (st.Tier != TierPlus && st.Tier != TierEnterprise) {
					t.Errorf("a reader saw %+v", st)
					return
				}
			}
		})
	}
	var reloaders sync.WaitGroup
	for i := range 4 {
		reloaders.Go(func() {
			for j := range 50 {
				if i == 0 {
					tok := plus
					if j%2 == 1 {
						tok = enterprise
					}
					if err := replaceFile(path, tok); err != nil {
						t.Errorf("replace license: %v", err)
						return
					}
				}
				if err := m.Reload(); err != nil {
					t.Errorf("reload: %v", err)
					return
				}
			}
		})
	}
	for i := range 50 {
		f.clock.Set(testEpoch.Add(time.Duration(i) * 12 * time.Hour))
		time.Sleep(time.Millisecond)
	}
	reloaders.Wait()
	close(stop)
	readers.Wait()
	require.Contains(t, []Tier{TierPlus, TierEnterprise}, m.Current().Tier)
}

func TestManagerInstall(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "license.jwt")
	m := NewManager(f.verifier, "", nil, WithInstallPath(path))
	require.Equal(t, State{Tier: TierFree, Status: StatusNoLicense, Features: []Feature{}}, m.Current(),
		"nothing installed yet: no license and no warning")

	// A license not in force is refused and nothing is written.
	expired := f.mint(t, func(c *Claims) {
		c.IssuedAt = f.clock.Now().Add(-100 * 24 * time.Hour)
		c.ExpiresAt = f.clock.Now().Add(-30 * 24 * time.Hour)
	})
	for tok, result := range map[string]string{expired: ResultExpired, "garbage": ResultMalformed} {
		_, _, err := m.Install(tok)
		var nif *NotInForceError
		require.ErrorAs(t, err, &nif)
		require.Equal(t, result, nif.Result)
		require.NotEmpty(t, nif.Reason)
		require.NoFileExists(t, path)
	}

	before, after, err := m.Install(" " + f.mint(t, nil) + "\n")
	require.NoError(t, err)
	require.Equal(t, StatusNoLicense, before.Status)
	require.Equal(t, TierPlus, after.Tier)
	require.Equal(t, TierPlus, m.Current().Tier)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")

	// A new manager (the next start) reads what was installed.
	require.Equal(t, TierPlus, NewManager(f.verifier, "", nil, WithInstallPath(path)).Current().Tier)

	before, after, err = m.Install(f.mint(t, func(c *Claims) { c.Tier = TierEnterprise }))
	require.NoError(t, err)
	require.Equal(t, TierPlus, before.Tier)
	require.Equal(t, TierEnterprise, after.Tier)
}

func TestManagerInstallPrefersTheConfiguredFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dir := t.TempDir()
	configured := filepath.Join(dir, "configured.jwt")
	fallback := filepath.Join(dir, "fallback.jwt")
	m := NewManager(f.verifier, configured, nil, WithInstallPath(fallback))
	require.Equal(t, StatusNoLicense, m.Current().Status)
	require.NotEmpty(t, m.Current().Warnings, "a configured file that is missing still warns")
	_, after, err := m.Install(f.mint(t, nil))
	require.NoError(t, err)
	require.Equal(t, StatusActive, after.Status)
	require.FileExists(t, configured)
	require.NoFileExists(t, fallback)
}

func TestManagerInstallWithoutFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, _, err := NewManager(f.verifier, "", nil).Install(f.mint(t, nil))
	require.ErrorIs(t, err, ErrNoLicenseFile)
}
