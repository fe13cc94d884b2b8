package seal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Rotate adds a new random key to the key file at path and makes it active, keeping every
// old key so values sealed under them still open, and returns the keyring of the new file.
// It is the first step of `openwatch rekey`: re-seal every stored value with Reseal, and
// only then may the old keys be removed.
//
// The file is replaced atomically (written in full under a temporary name, 0600, synced,
// then renamed over the old one), so a reader sees the old file or the new one, never a
// mix. Rotations of one file take turns on an exclusive lock on it, so none loses another's
// key (the lock is taken on a .lock file beside it). The file must pass the checks
// LoadOrCreate makes (mode, format).
func Rotate(path string) (*Keyring, error) {
	if path == "" {
		return nil, errors.New("rotate key file: no path configured")
	}
	unlock, err := lockKeyFile(path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := load(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("parse key file %s: %w", path, err)
	}
	kid, key, err := newKey(kf.Keys)
	if err != nil {
		return nil, err
	}
	if kf.Keys == nil {
		kf.Keys = map[string]string{}
	}
	kf.Version = keyFileVersion
	kf.Active = kid
	kf.Keys[kid] = base64.StdEncoding.EncodeToString(key)
	out, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	if err := replaceFile(path, append(out, '\n')); err != nil {
		return nil, err
	}
	return load(path)
}

// Reseal opens ct, sealed under a key of from and bound to ad, and seals its plaintext
// under the active key of to with the same ad. It fails, without detail of the value, when
// ct does not open under from (ErrMalformed, ErrUnknownKey, ErrNotAuthentic).
func Reseal(from, to *Keyring, ad AD, ct []byte) ([]byte, error) {
	plaintext, err := from.Open(ct, ad)
	if err != nil {
		return nil, fmt.Errorf("reseal %s.%s of row %s: %w", ad.Table, ad.Column, ad.RowID, err)
	}
	defer clear(plaintext)
	out, err := to.Seal(plaintext, ad)
	if err != nil {
		return nil, fmt.Errorf("reseal %s.%s of row %s: %w", ad.Table, ad.Column, ad.RowID, err)
	}
	return out, nil
}

// newKey returns a random key under a random id that is not among existing.
func newKey(existing map[string]string) (string, []byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", nil, fmt.Errorf("generate key: %w", err)
	}
	for {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return "", nil, fmt.Errorf("generate key id: %w", err)
		}
		kid := hex.EncodeToString(id[:])
		if _, taken := existing[kid]; !taken {
			return kid, key, nil
		}
	}
}

// lockKeyFile takes an exclusive flock on the key file at path and returns its release.
// The lock is on the file, which a rotation replaces, so after waiting for it the lock is
// retaken when path has meanwhile become another file.
func lockKeyFile(path string) (func(), error) {
	// The key file itself is replaced by rename, so its inode cannot carry the lock: a
	// lock file beside it, never replaced, does.
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open key lock file: %w", err)
	}
	if err := flock(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock key file %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}

// flock waits for an exclusive lock on f, retrying when a signal interrupts the wait.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// replaceFile writes data to a temporary file (0600, owned like the file at path, so a
// rotation run as root leaves the file readable by the service user) beside path, syncs it
// and renames it over path, then syncs the directory so the new entry is durable.
func replaceFile(path string, data []byte) error {
	old, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat key file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid()) {
		if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
			_ = tmp.Close()
			return fmt.Errorf("keep key file owner: %w", err)
		}
	}
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace key file: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	return nil
}
