package license

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Claims are what a minted license asserts.
type Claims struct {
	Tier       Tier
	CustomerID string
	// Features are extras beyond the tier's own; optional.
	Features []Feature
	// IssuedAt defaults to now and NotBefore to IssuedAt.
	IssuedAt, NotBefore time.Time
	// ExpiresAt is required and must be after NotBefore.
	ExpiresAt time.Time
	// Issuer defaults to Issuer; anything else fails verification.
	Issuer string
}

// Mint signs a license with priv and names kid in its header. It is for tests and for the
// vendor's licensing tooling; the server only verifies.
func Mint(priv ed25519.PrivateKey, kid string, c Claims) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("mint license: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if kid == "" {
		return "", errors.New("mint license: kid is empty")
	}
	if !c.Tier.Valid() {
		return "", fmt.Errorf("mint license: unknown tier %q", c.Tier)
	}
	if c.CustomerID == "" {
		return "", errors.New("mint license: customer id is empty")
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	}
	if !c.ExpiresAt.After(c.NotBefore) {
		return "", errors.New("mint license: expiry must be after not-before")
	}
	if c.Issuer == "" {
		c.Issuer = Issuer
	}
	b := jwt.NewBuilder().
		Issuer(c.Issuer).
		Subject(c.CustomerID).
		JwtID(uuid.NewString()).
		IssuedAt(c.IssuedAt).
		NotBefore(c.NotBefore).
		Expiration(c.ExpiresAt).
		Claim(claimTier, string(c.Tier))
	if len(c.Features) > 0 {
		names := make([]string, 0, len(c.Features))
		for _, f := range c.Features {
			if f == "" {
				return "", errors.New("mint license: empty feature name")
			}
			names = append(names, string(f))
		}
		slices.Sort(names)
		b = b.Claim(claimFeatures, slices.Compact(names))
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("mint license: build token: %w", err)
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return "", fmt.Errorf("mint license: import key: %w", err)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		return "", fmt.Errorf("mint license: set kid: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), key))
	if err != nil {
		return "", fmt.Errorf("mint license: sign: %w", err)
	}
	return string(signed), nil
}
