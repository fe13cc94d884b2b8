package seal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/seal"
)

// keyFileKeys returns the active key id and the key ids of the key file at path.
func keyFileKeys(t *testing.T, path string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Version int               `json:"version"`
		Active  string            `json:"active"`
		Keys    map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.Equal(t, 1, file.Version)
	ids := make([]string, 0, len(file.Keys))
	for kid := range file.Keys {
		ids = append(ids, kid)
	}
	return file.Active, ids
}

func TestRotateKeepsOldKeysReadable(t *testing.T) {
	t.Parallel()
	old, path := newKeyring(t)
	sealed, err := old.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)

	rotated, err := seal.Rotate(path)
	require.NoError(t, err)
	require.NotEqual(t, old.ActiveKeyID(), rotated.ActiveKeyID())
	got, err := rotated.Open(sealed, hostKeyAD)
	require.NoError(t, err, "the old key stays readable")
	require.Equal(t, "s3cret", string(got))
	fresh, err := rotated.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(fresh, []byte("ow1:"+rotated.ActiveKeyID()+":")), "the new key is active")
	_, err = old.Open(fresh, hostKeyAD)
	require.ErrorIs(t, err, seal.ErrUnknownKey)

	reloaded, err := seal.LoadOrCreate(path)
	require.NoError(t, err, "the rotated file passes the load checks")
	require.Equal(t, rotated.ActiveKeyID(), reloaded.ActiveKeyID())
	for _, v := range [][]byte{sealed, fresh} {
		got, err := reloaded.Open(v, hostKeyAD)
		require.NoError(t, err)
		require.Equal(t, "s3cret", string(got))
	}
	active, ids := keyFileKeys(t, path)
	require.Equal(t, rotated.ActiveKeyID(), active)
	require.ElementsMatch(t, []string{old.ActiveKeyID(), rotated.ActiveKeyID()}, ids)

	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{filepath.Base(path), filepath.Base(path) + ".lock"}, names,
		"no temporary file is left behind; only the key file and its lock file")
}

func TestRotateRefusesBadFiles(t *testing.T) {
	t.Parallel()
	_, err := seal.Rotate(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err, "rotation never creates a key file")
	_, err = seal.Rotate("")
	require.Error(t, err)

	k, path := newKeyring(t)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = seal.Rotate(path)
	require.ErrorContains(t, err, "chmod 600")
	require.NoError(t, os.Chmod(path, 0o600))
	active, ids := keyFileKeys(t, path)
	require.Equal(t, k.ActiveKeyID(), active, "a refused rotation leaves the file alone")
	require.Len(t, ids, 1)
}

func TestConcurrentRotationsKeepEveryKey(t *testing.T) {
	t.Parallel()
	first, path := newKeyring(t)
	const n = 8
	rings := make([]*seal.Keyring, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { rings[i], errs[i] = seal.Rotate(path) })
	}
	wg.Wait()
	want := []string{first.ActiveKeyID()}
	for i := range n {
		require.NoError(t, errs[i])
		want = append(want, rings[i].ActiveKeyID())
	}
	_, ids := keyFileKeys(t, path)
	require.ElementsMatch(t, want, ids, "no rotation lost another's key")
}

func TestReseal(t *testing.T) {
	t.Parallel()
	old, path := newKeyring(t)
	sealed, err := old.Seal([]byte("s3cret"), hostKeyAD)
	require.NoError(t, err)
	next, err := seal.Rotate(path)
	require.NoError(t, err)

	col := seal.Column{Table: hostKeyAD.Table, Name: hostKeyAD.Column}
	require.Equal(t, hostKeyAD, col.AD(uuid.MustParse(hostKeyAD.RowID)), "a column's AD is its table, name and row id")
	require.Equal(t, "credentials.private_key", col.String())
	resealed, err := seal.Reseal(old, next, col.AD(uuid.MustParse(hostKeyAD.RowID)), sealed)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(resealed, []byte("ow1:"+next.ActiveKeyID()+":")))
	got, err := next.Open(resealed, hostKeyAD)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(got))

	otherRow := hostKeyAD
	otherRow.RowID = "0190a3f4-0000-7000-8000-000000000002"
	_, err = seal.Reseal(old, next, otherRow, sealed)
	require.ErrorIs(t, err, seal.ErrNotAuthentic, "reseal keeps the binding: a moved value does not open")
	_, err = next.Open(resealed, otherRow)
	require.ErrorIs(t, err, seal.ErrNotAuthentic)

	stranger, _ := newKeyring(t)
	_, err = seal.Reseal(stranger, next, hostKeyAD, sealed)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	_, err = seal.Reseal(old, next, hostKeyAD, []byte("plaintext"))
	require.ErrorIs(t, err, seal.ErrMalformed)
	require.NotContains(t, err.Error(), "plaintext", "errors never quote the value")
}
