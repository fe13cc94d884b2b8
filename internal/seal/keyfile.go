package seal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// keyFileVersion is the version of the key file format LoadOrCreate writes.
const keyFileVersion = 1

// maxKeyFileSize bounds what LoadOrCreate reads: a key file holds a few keys.
const maxKeyFileSize = 1 << 20

// keyFile is the JSON form of a key file.
type keyFile struct {
	Version int               `json:"version"`
	Active  string            `json:"active"`
	Keys    map[string]string `json:"keys"`
}

// LoadOrCreate reads the key file at path, creating it (0600, parent dir 0700) with one
// random 256-bit key on first start. A key file readable or writable by group or others is
// refused with an error saying so (chmod 600). Two processes starting at once on the same
// path end up with the same key: the file appears atomically, complete, or not at all.
func LoadOrCreate(path string) (*Keyring, error) {
	if path == "" {
		return nil, errors.New("load key file: no path configured")
	}
	k, err := load(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = create(path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			k, err = load(path)
		}
	}
	return k, err
}

// load reads and checks the key file at path.
func load(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable or writable by group or others (mode %04o): run chmod 600 %s",
			path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("parse key file %s: %w", path, err)
	}
	if kf.Version != 0 && kf.Version != keyFileVersion {
		return nil, fmt.Errorf("key file %s has version %d; this build reads version %d", path, kf.Version, keyFileVersion)
	}
	keys := make(map[string][]byte, len(kf.Keys))
	for kid, enc := range kf.Keys {
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("key file %s: key %q is not base64: %w", path, kid, err)
		}
		keys[kid] = key
	}
	k, err := newKeyring(kf.Active, keys)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// create writes a new key file with one random key at path. It fails with an error wrapping
// fs.ErrExist when the file appeared meanwhile. The file is written under a temporary name
// and hard-linked into place, so no reader ever sees it half written and an existing file is
// never replaced.
func create(path string) (*Keyring, error) {
	var key [KeySize]byte
	var id [8]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("generate key id: %w", err)
	}
	kid := hex.EncodeToString(id[:])
	data, err := json.MarshalIndent(keyFile{
		Version: keyFileVersion,
		Active:  kid,
		Keys:    map[string]string{kid: base64.StdEncoding.EncodeToString(key[:])},
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, data); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new directory entry durable; a failure here is not worth refusing to start.
		_ = d.Sync()
		_ = d.Close()
	}
	return newKeyring(kid, map[string][]byte{kid: key[:]})
}

// writeSynced writes data to f with mode 0600, flushes it to disk and closes f.
func writeSynced(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
