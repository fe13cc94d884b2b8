package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/require"
)

func testKey(t testing.TB) *SigningKey {
	k, err := LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "keys", "signing.jwk"))
	require.NoError(t, err)
	return k
}

func TestIssueAndVerify(t *testing.T) {
	now := time.Now()
	s := NewTokenSigner(testKey(t), 15*time.Minute, func() time.Time { return now })
	uid, sid := uuid.New(), uuid.New()
	tok, exp, err := s.Issue(uid, sid)
	require.NoError(t, err)
	require.WithinDuration(t, now.Add(15*time.Minute), exp, time.Second)
	msg, err := jws.Parse([]byte(tok))
	require.NoError(t, err)
	kid, ok := msg.Signatures()[0].ProtectedHeaders().KeyID()
	require.True(t, ok)
	require.Equal(t, s.key.KeyID(), kid, "the token names its signing key")
	alg, _ := msg.Signatures()[0].ProtectedHeaders().Algorithm()
	require.Equal(t, "EdDSA", alg.String(), "asymmetric")

	c, err := s.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, uid, c.UserID)
	require.Equal(t, sid, c.SessionID)
	c2, err := s.Verify(tok)
	require.NoError(t, err, "a cached token verifies again")
	require.Equal(t, c, c2)

	now = now.Add(16 * time.Minute)
	_, err = s.Verify(tok)
	require.Error(t, err, "expired, also when cached")
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := NewTokenSigner(testKey(t), time.Minute, clock)
	tok, _, err := s.Issue(uuid.New(), uuid.New())
	require.NoError(t, err)

	other := NewTokenSigner(testKey(t), time.Minute, clock)
	_, err = other.Verify(tok)
	require.Error(t, err, "a token signed by another key")

	parts := strings.Split(tok, ".")
	_, err = s.Verify(parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])))
	require.Error(t, err, "a bad signature")
	_, err = s.Verify("garbage")
	require.Error(t, err)

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := jwk.Import(priv)
	require.NoError(t, err)
	require.NoError(t, k.Set(jwk.KeyIDKey, "other"))
	_, err = NewSigningKey(k)
	require.NoError(t, err)
}

func TestSigningKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.jwk")
	k1, err := LoadOrCreateSigningKey(path)
	require.NoError(t, err)
	require.NotEmpty(t, k1.KeyID())
	st, err := osStat(path)
	require.NoError(t, err)
	require.Equal(t, "-rw-------", st.Mode().Perm().String())
	k2, err := LoadOrCreateSigningKey(path)
	require.NoError(t, err)
	require.Equal(t, k1.KeyID(), k2.KeyID(), "the key is reused")

	require.NoError(t, osChmod(path, 0o644))
	_, err = LoadOrCreateSigningKey(path)
	require.ErrorContains(t, err, "readable by group or others")
}

func TestPasswordHash(t *testing.T) {
	p := PasswordParams{Memory: 1024, Time: 1, Threads: 1}
	h, err := HashPassword("correct horse", p)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$"))
	ok, err := VerifyPassword("correct horse", h)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = VerifyPassword("wrong horse", h)
	require.NoError(t, err)
	require.False(t, ok)
	h2, err := HashPassword("correct horse", p)
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "salted")
	_, err = VerifyPassword("x", "$bcrypt$nope")
	require.Error(t, err)
}

// BenchmarkTokenVerify measures access-token verification: the first sight of a token
// (EdDSA signature check) and the cached path every later request takes.
func BenchmarkTokenVerify(b *testing.B) {
	s := NewTokenSigner(testKey(b), time.Hour, time.Now)
	tok, _, err := s.Issue(uuid.New(), uuid.New())
	require.NoError(b, err)
	b.Run("signature", func(b *testing.B) {
		b.ReportAllocs()
		now := time.Now()
		for b.Loop() {
			if _, err := s.verify(tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var (
	osStat  = os.Stat
	osChmod = os.Chmod
)

// TestDecoyHash: the hash unknown users are checked against has the configured cost and
// matches no password (checking against it takes as long as against a real one).
func TestDecoyHash(t *testing.T) {
	p := PasswordParams{Memory: 64, Time: 1, Threads: 1}
	h, err := decoyHash(p)
	require.NoError(t, err)
	real, err := HashPassword("x", p)
	require.NoError(t, err)
	require.Equal(t, strings.SplitN(real, "$", 5)[:4], strings.SplitN(h, "$", 5)[:4], "same algorithm, version and cost")
	require.Len(t, h, len(real))
	for _, pw := range []string{"", "x", "openwatch-timing-equaliser"} {
		ok, err := VerifyPassword(pw, h)
		require.NoError(t, err)
		require.False(t, ok)
	}
	other, err := decoyHash(p)
	require.NoError(t, err)
	require.NotEqual(t, h, other)
}
