package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// SigningKey is the asymmetric key access tokens are signed with, and the public key set
// they are verified against.
type SigningKey struct {
	private jwk.Key
	public  jwk.Set
	kid     string
}

// KeyID returns the key's `kid`.
func (k *SigningKey) KeyID() string { return k.kid }

// LoadOrCreateSigningKey reads the Ed25519 JWK at path, creating it (mode 0600, directory
// 0700) on first start. A key file that group or others can read is refused.
func LoadOrCreateSigningKey(path string) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createSigningKey(path)
	case err != nil:
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat signing key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s is readable by group or others (mode %04o): chmod 600 it", path, st.Mode().Perm())
	}
	key, err := jwk.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", path, err)
	}
	return newSigningKey(key)
}

func createSigningKey(path string) (*SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, fmt.Errorf("import signing key: %w", err)
	}
	tp, err := key.Thumbprint(cryptoSHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint signing key: %w", err)
	}
	if err := key.Set(jwk.KeyIDKey, b64(tp)[:16]); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, err
	}
	data, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return newSigningKey(key)
}

// NewSigningKey wraps an existing private JWK, for tests and key rotation tooling.
func NewSigningKey(private jwk.Key) (*SigningKey, error) { return newSigningKey(private) }

func newSigningKey(private jwk.Key) (*SigningKey, error) {
	kid, ok := private.KeyID()
	if !ok || kid == "" {
		return nil, errors.New("signing key has no kid")
	}
	pub, err := jwk.PublicKeyOf(private)
	if err != nil {
		return nil, fmt.Errorf("derive public key: %w", err)
	}
	if err := pub.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return &SigningKey{private: private, public: set, kid: kid}, nil
}
