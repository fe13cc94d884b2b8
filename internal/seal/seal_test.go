package seal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/seal"
)

var hostKeyAD = seal.AD{Table: "credentials", Column: "private_key", RowID: "0190a3f4-0000-7000-8000-000000000001"}

func newKeyring(t *testing.T) (*seal.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "seal.json")
	k, err := seal.LoadOrCreate(path)
	require.NoError(t, err)
	return k, path
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	k, _ := newKeyring(t)
	for _, plaintext := range [][]byte{[]byte("-----BEGIN OPENSSH PRIVATE KEY-----"), {}, bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := k.Seal(plaintext, hostKeyAD)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(sealed, []byte("ow1:"+k.ActiveKeyID()+":")), "version and key id prefix")
		got, err := k.Open(sealed, hostKeyAD)
		require.NoError(t, err)
		require.Equal(t, len(plaintext), len(got))
		require.True(t, bytes.Equal(plaintext, got))
	}

	a, err := k.Seal([]byte("same"), hostKeyAD)
	require.NoError(t, err)
	b, err := k.Seal([]byte("same"), hostKeyAD)
	require.NoError(t, err)
	require.NotEqual(t, a, b, "every seal uses a fresh nonce")
}

func TestWrongADFails(t *testing.T) {
	t.Parallel()
	k, _ := newKeyring(t)
	sealed, err := k.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)

	wrong := map[string]seal.AD{
		"table":  {Table: "webhooks", Column: hostKeyAD.Column, RowID: hostKeyAD.RowID},
		"column": {Table: hostKeyAD.Table, Column: "password", RowID: hostKeyAD.RowID},
		"row":    {Table: hostKeyAD.Table, Column: hostKeyAD.Column, RowID: "0190a3f4-0000-7000-8000-000000000002"},
		"empty":  {},
		// Moving bytes between fields must not give the same associated data.
		"shifted": {Table: hostKeyAD.Table + hostKeyAD.Column[:1], Column: hostKeyAD.Column[1:], RowID: hostKeyAD.RowID},
	}
	for name, ad := range wrong {
		_, err := k.Open(sealed, ad)
		require.ErrorIs(t, err, seal.ErrNotAuthentic, name)
	}
}

func TestTamperFails(t *testing.T) {
	t.Parallel()
	k, _ := newKeyring(t)
	sealed, err := k.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)
	header := len("ow1:" + k.ActiveKeyID() + ":")

	for i := header; i < len(sealed); i++ {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := k.Open(bad, hostKeyAD)
		require.ErrorIs(t, err, seal.ErrNotAuthentic, "flipped bit in byte %d", i)
	}
	for _, cut := range []int{1, 16, len(sealed) - header} {
		_, err := k.Open(sealed[:len(sealed)-cut], hostKeyAD)
		require.Error(t, err, "truncated by %d", cut)
	}
	_, err = k.Open(append(bytes.Clone(sealed), 0), hostKeyAD)
	require.ErrorIs(t, err, seal.ErrNotAuthentic, "appended byte")

	for name, bad := range map[string][]byte{
		"nil":           nil,
		"other version": append([]byte("ow2:"), sealed[4:]...),
		"no key id":     []byte("ow1:"),
		"bad key id":    append([]byte("ow1:a/b:"), sealed[header:]...),
		"plaintext":     []byte("s3cret"),
	} {
		_, err := k.Open(bad, hostKeyAD)
		require.ErrorIs(t, err, seal.ErrMalformed, name)
	}
}

func TestUnknownKeyIDFails(t *testing.T) {
	t.Parallel()
	k1, _ := newKeyring(t)
	k2, _ := newKeyring(t)
	require.NotEqual(t, k1.ActiveKeyID(), k2.ActiveKeyID())
	sealed, err := k1.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)
	_, err = k2.Open(sealed, hostKeyAD)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	require.Contains(t, err.Error(), k1.ActiveKeyID())

	// The same key id with another key is a failed authentication, not a panic.
	forged := append([]byte("ow1:"+k2.ActiveKeyID()+":"), sealed[len("ow1:"+k1.ActiveKeyID()+":"):]...)
	_, err = k2.Open(forged, hostKeyAD)
	require.ErrorIs(t, err, seal.ErrNotAuthentic)
}

func TestKeyFilePermissions(t *testing.T) {
	t.Parallel()
	k, path := newKeyring(t)

	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	st, err = os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "a new parent directory is 0700")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		require.NoError(t, os.Chmod(path, mode))
		_, err = seal.LoadOrCreate(path)
		require.Error(t, err, "mode %04o", mode)
		require.Contains(t, err.Error(), "chmod 600")
		require.Contains(t, err.Error(), "group or others")
	}

	require.NoError(t, os.Chmod(path, 0o400))
	again, err := seal.LoadOrCreate(path)
	require.NoError(t, err, "owner-only read is fine")
	require.Equal(t, k.ActiveKeyID(), again.ActiveKeyID())
}

func TestReloadReadsSameKey(t *testing.T) {
	t.Parallel()
	k, path := newKeyring(t)
	sealed, err := k.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)

	again, err := seal.LoadOrCreate(path)
	require.NoError(t, err)
	require.Equal(t, k.ActiveKeyID(), again.ActiveKeyID())
	got, err := again.Open(sealed, hostKeyAD)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(got))
}

func TestConcurrentFirstStartAgrees(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "seal.json")
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := seal.LoadOrCreate(path)
			errs[i] = err
			if err == nil {
				ids[i] = k.ActiveKeyID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, ids[0], ids[i])
	}
}

// TestRotationReady checks that a key file with several keys opens values sealed under any
// of them and seals under the active one, as `openwatch rekey` will need.
func TestRotationReady(t *testing.T) {
	t.Parallel()
	old, path := newKeyring(t)
	sealed, err := old.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Version int               `json:"version"`
		Active  string            `json:"active"`
		Keys    map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.Equal(t, 1, file.Version)
	require.Equal(t, old.ActiveKeyID(), file.Active)
	require.Len(t, file.Keys, 1)
	oldKey := file.Keys[old.ActiveKeyID()]
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, seal.KeySize))
	rotated := `{"version":1,"active":"k2","keys":{"k2":"` + newKey + `","` + old.ActiveKeyID() + `":"` + oldKey + `"}}`
	require.NoError(t, os.WriteFile(path, []byte(rotated), 0o600))

	k, err := seal.LoadOrCreate(path)
	require.NoError(t, err)
	require.Equal(t, "k2", k.ActiveKeyID())
	got, err := k.Open(sealed, hostKeyAD)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(got))
	resealed, err := k.Seal(got, hostKeyAD)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(resealed, []byte("ow1:k2:")))
}

func TestBadKeyFiles(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, seal.KeySize))
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	for name, content := range map[string]string{
		"not json":       "{",
		"no active key":  `{"keys":{"a":"` + key + `"}}`,
		"unknown active": `{"active":"b","keys":{"a":"` + key + `"}}`,
		"short key":      `{"active":"a","keys":{"a":"` + short + `"}}`,
		"not base64":     `{"active":"a","keys":{"a":"%%%"}}`,
		"bad key id":     `{"active":"a:b","keys":{"a:b":"` + key + `"}}`,
		"newer version":  `{"version":2,"active":"a","keys":{"a":"` + key + `"}}`,
	} {
		path := filepath.Join(t.TempDir(), "seal.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := seal.LoadOrCreate(path)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), path, name)
	}
	_, err := seal.LoadOrCreate("")
	require.Error(t, err)
}
