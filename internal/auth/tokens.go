package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	cryptoSHA256 = crypto.SHA256
	tokenIssuer  = "openwatch"
	claimSession = "sid"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomSecret returns n random bytes, base64url-encoded.
func randomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return b64(b), nil
}

func digest(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// accessClaims are what an access token asserts.
type accessClaims struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	Expires   time.Time
}

// TokenSigner issues and verifies access tokens. Verified tokens are cached until they
// expire, so a busy client pays for one signature check, not one per request.
type TokenSigner struct {
	key *SigningKey
	ttl time.Duration
	now func() time.Time

	mu    sync.RWMutex
	cache map[string]accessClaims
}

// maxVerifiedTokens bounds the verification and session caches (a few MB at most); a
// cache is cleared when full.
const maxVerifiedTokens = 10_000

// NewTokenSigner returns a signer issuing tokens valid for ttl.
func NewTokenSigner(key *SigningKey, ttl time.Duration, now func() time.Time) *TokenSigner {
	return &TokenSigner{key: key, ttl: ttl, now: now, cache: map[string]accessClaims{}}
}

// Issue returns a signed access token for the session.
func (s *TokenSigner) Issue(userID, sessionID uuid.UUID) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.ttl)
	tok, err := jwt.NewBuilder().
		Issuer(tokenIssuer).
		Subject(userID.String()).
		Claim(claimSession, sessionID.String()).
		IssuedAt(now).
		Expiration(exp).
		Build()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("build token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), s.key.private))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return string(signed), exp, nil
}

// Verify checks the token's signature, issuer and expiry and returns its claims.
func (s *TokenSigner) Verify(token string) (accessClaims, error) {
	now := s.now()
	s.mu.RLock()
	c, ok := s.cache[token]
	s.mu.RUnlock()
	if ok {
		if now.Before(c.Expires) {
			return c, nil
		}
		s.mu.Lock()
		delete(s.cache, token)
		s.mu.Unlock()
		return accessClaims{}, errTokenExpired
	}
	c, err := s.verify(token, now)
	if err != nil {
		return accessClaims{}, err
	}
	s.mu.Lock()
	if len(s.cache) >= maxVerifiedTokens {
		clear(s.cache)
	}
	s.cache[token] = c
	s.mu.Unlock()
	return c, nil
}

func (s *TokenSigner) verify(token string, now time.Time) (accessClaims, error) {
	tok, err := jwt.ParseString(token,
		jwt.WithKeySet(s.key.public),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(30*time.Second),
		jwt.WithRequiredClaim(claimSession),
	)
	if err != nil {
		return accessClaims{}, fmt.Errorf("verify token: %w", err)
	}
	sub, _ := tok.Subject()
	exp, _ := tok.Expiration()
	var sid string
	if err := tok.Get(claimSession, &sid); err != nil {
		return accessClaims{}, fmt.Errorf("token session claim: %w", err)
	}
	uid, err := uuid.Parse(sub)
	if err != nil {
		return accessClaims{}, fmt.Errorf("token subject: %w", err)
	}
	sessionID, err := uuid.Parse(sid)
	if err != nil {
		return accessClaims{}, fmt.Errorf("token session: %w", err)
	}
	return accessClaims{UserID: uid, SessionID: sessionID, Expires: exp}, nil
}
