package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"
)

// testClock is a settable clock, safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type signingKey struct {
	kid  string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newSigningKey(t testing.TB, kid string) signingKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return signingKey{kid: kid, priv: priv, pub: pub}
}

// fixture is a verifier trusting a current and a previous key, on a settable clock.
type fixture struct {
	clock    *testClock
	current  signingKey
	previous signingKey
	verifier *Verifier
}

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		clock:    &testClock{now: testEpoch},
		current:  newSigningKey(t, "current"),
		previous: newSigningKey(t, "previous"),
	}
	f.verifier = NewVerifier([]TrustedKey{
		{KID: f.current.kid, Public: f.current.pub},
		{KID: f.previous.kid, Public: f.previous.pub, Previous: true},
	}, 0, f.clock.Now)
	return f
}

// claims is a plus license valid from a day ago for a year.
func (f *fixture) claims() Claims {
	now := f.clock.Now()
	return Claims{
		Tier:       TierPlus,
		CustomerID: "cust-42",
		IssuedAt:   now.Add(-24 * time.Hour),
		ExpiresAt:  now.Add(365 * 24 * time.Hour),
	}
}

func (f *fixture) mint(t testing.TB, edit func(*Claims)) string {
	t.Helper()
	c := f.claims()
	if edit != nil {
		edit(&c)
	}
	tok, err := Mint(f.current.priv, f.current.kid, c)
	require.NoError(t, err)
	return tok
}

// signRaw signs arbitrary claims with the current key, bypassing Mint's checks.
func (f *fixture) signRaw(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	hdr := jws.NewHeaders()
	require.NoError(t, hdr.Set(jws.KeyIDKey, f.current.kid))
	signed, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), f.current.priv, jws.WithProtectedHeaders(hdr)))
	require.NoError(t, err)
	return string(signed)
}

func (f *fixture) rawClaims() map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss":  Issuer,
		"sub":  "cust-42",
		"tier": "enterprise",
		"iat":  now.Add(-time.Hour).Unix(),
		"nbf":  now.Add(-time.Hour).Unix(),
		"exp":  now.Add(time.Hour * 24 * 100).Unix(),
	}
}

func b64(v []byte) string { return base64.RawURLEncoding.EncodeToString(v) }

// hmacToken signs enterprise claims with HS256 and the given secret, naming kid.
func hmacToken(t testing.TB, kid string, secret []byte) string {
	t.Helper()
	tok, err := jwt.NewBuilder().
		Issuer(Issuer).
		Subject("cust-42").
		Claim(claimTier, string(TierEnterprise)).
		Expiration(testEpoch.Add(24 * time.Hour)).
		Build()
	require.NoError(t, err)
	hdr := jws.NewHeaders()
	require.NoError(t, hdr.Set(jws.KeyIDKey, kid))
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(hdr)))
	require.NoError(t, err)
	return string(signed)
}

// unsignedToken is `{"alg":"none","kid":kid}` over enterprise claims with an empty
// signature.
func unsignedToken(t testing.TB, kid string) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"})
	require.NoError(t, err)
	payload, err := json.Marshal(map[string]any{
		"iss": Issuer, "sub": "cust-42", "tier": "enterprise", "exp": testEpoch.Add(time.Hour).Unix(),
	})
	require.NoError(t, err)
	return b64(hdr) + "." + b64(payload) + "."
}

func jwkJSON(t testing.TB, raw any, members map[string]any) map[string]any {
	t.Helper()
	key, err := jwk.Import(raw)
	require.NoError(t, err)
	for k, v := range members {
		require.NoError(t, key.Set(k, v))
	}
	data, err := json.Marshal(key)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func keySet(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return data
}

func containsWarning(warnings []string, substr string) bool {
	for _, w := range warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func b64Decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func ed25519Sign(k signingKey, msg []byte) []byte { return ed25519.Sign(k.priv, msg) }
