package license

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// previousKeyMember is the custom JWK member marking a key that is being rotated out.
const previousKeyMember = "openwatch_previous"

// TrustedKey is a public key allowed to sign licenses.
type TrustedKey struct {
	// KID is the key id a license's `kid` header names.
	KID string
	// Public is the Ed25519 public key.
	Public ed25519.PublicKey
	// Previous marks a key being rotated out: its licenses verify, with a warning.
	Previous bool
}

// DefaultTrustedKeys returns the license keys built into the product. The set is empty
// until the vendor's public key set ships; until then every trusted key comes from the
// `[license] trusted_keys_file` setting.
func DefaultTrustedKeys() []TrustedKey {
	return []TrustedKey{}
}

// ParseTrustedKeys reads a JWK set (or a single JWK) of OKP/Ed25519 public keys. Every key
// needs a `kid`, unique within the set; `use`, when present, must be "sig" and `alg`, when
// present, EdDSA. The custom member "openwatch_previous": true marks a key being rotated
// out. Private keys are refused: only the public half belongs on a server.
func ParseTrustedKeys(data []byte) ([]TrustedKey, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse trusted keys: %w", err)
	}
	if set.Len() == 0 {
		return nil, errors.New("parse trusted keys: the set holds no keys")
	}
	keys := make([]TrustedKey, 0, set.Len())
	seen := make(map[string]bool, set.Len())
	for i := range set.Len() {
		key, _ := set.Key(i)
		tk, err := trustedKey(key)
		if err != nil {
			return nil, fmt.Errorf("parse trusted keys: key %d: %w", i, err)
		}
		if seen[tk.KID] {
			return nil, fmt.Errorf("parse trusted keys: key %d: kid %q appears twice", i, tk.KID)
		}
		seen[tk.KID] = true
		keys = append(keys, tk)
	}
	return keys, nil
}

func trustedKey(key jwk.Key) (TrustedKey, error) {
	kid, _ := key.KeyID()
	if kid == "" {
		return TrustedKey{}, errors.New("no kid")
	}
	if key.KeyType() != jwa.OKP() {
		return TrustedKey{}, fmt.Errorf("kid %q: key type %s, want OKP", kid, key.KeyType())
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return TrustedKey{}, fmt.Errorf("kid %q: a private key; trust only its public half", kid)
	}
	okp, ok := key.(jwk.OKPPublicKey)
	if !ok {
		return TrustedKey{}, fmt.Errorf("kid %q: not an OKP public key", kid)
	}
	if crv, _ := okp.Crv(); crv != jwa.Ed25519() {
		return TrustedKey{}, fmt.Errorf("kid %q: curve %s, want Ed25519", kid, crv)
	}
	if use, ok := key.KeyUsage(); ok && use != jwk.ForSignature.String() {
		return TrustedKey{}, fmt.Errorf("kid %q: use %q, want %q", kid, use, jwk.ForSignature)
	}
	if alg, ok := key.Algorithm(); ok && alg.String() != jwa.EdDSA().String() {
		return TrustedKey{}, fmt.Errorf("kid %q: alg %s, want EdDSA", kid, alg)
	}
	var pub ed25519.PublicKey
	if err := jwk.Export(key, &pub); err != nil {
		return TrustedKey{}, fmt.Errorf("kid %q: export public key: %w", kid, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return TrustedKey{}, fmt.Errorf("kid %q: public key is %d bytes, want %d", kid, len(pub), ed25519.PublicKeySize)
	}
	var previous bool
	if key.Has(previousKeyMember) {
		if err := key.Get(previousKeyMember, &previous); err != nil {
			return TrustedKey{}, fmt.Errorf("kid %q: %s must be true or false", kid, previousKeyMember)
		}
	}
	return TrustedKey{KID: kid, Public: pub, Previous: previous}, nil
}
