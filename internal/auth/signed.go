package auth

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// SignatureSkew is how far a signed request's `created` may be from the server's clock,
// either way; a nonce is remembered for as long as its signature could be accepted.
const SignatureSkew = 5 * time.Minute

// SigningKeySize is the length of a token's signing key.
const SigningKeySize = 32

// NewSigningKey returns a new random signing key for token id and the key sealed, bound to
// the token's row.
func (s *Service) NewSigningKey(id uuid.UUID) (key, sealed []byte, err error) {
	key = make([]byte, SigningKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, apperr.Internal(err)
	}
	sealed, err = s.sealer.Seal(key, signingKeyColumn.AD(id))
	if err != nil {
		return nil, nil, apperr.Internal(err)
	}
	return key, sealed, nil
}

// ErrSignature is the 401 of a refused signed request; reason is a short machine-readable
// cause, also in the detail.
func ErrSignature(reason, message string) error {
	return apperr.New(apperr.CodeAuthInvalidToken, message).WithDetail("reason", reason)
}

// AuthenticateSigned resolves a signed request (RFC 9421, hmac-sha256) to the principal of
// the token keyid names. verify checks the signature under the token's signing key. The
// request's created time must be within SignatureSkew of now, and its nonce unseen for the
// token; the nonce is remembered in PostgreSQL, so a replay is refused by every process.
// Errors: auth.invalid_token (detail reason: unknown_key, stale, bad_signature, replayed),
// service.unavailable.
func (s *Service) AuthenticateSigned(ctx context.Context, tokenID uuid.UUID, created time.Time, nonce string, verify func(key []byte) error) (*authz.Principal, error) {
	now := s.now()
	if d := now.Sub(created); d > SignatureSkew || d < -SignatureSkew {
		return nil, ErrSignature("stale", "The signature's created time is "+created.UTC().Format(time.RFC3339)+
			", more than 5 minutes from the server's clock ("+now.UTC().Format(time.RFC3339)+"): sign each request when you send it and check the clock.")
	}
	e, err := s.apiToken(ctx, tokenID)
	if err != nil {
		if apperr.Is(err, apperr.CodeAuthInvalidToken) {
			return nil, apperr.New(apperr.CodeAuthInvalidToken, "The signing key is unknown: keyid names no usable API token ("+apperr.As(err).HumanMessage()+")").
				WithDetail("reason", "unknown_key")
		}
		return nil, err
	}
	if e.signingKey == nil {
		return nil, ErrSignature("unknown_key", "The API token named by keyid has no signing key: create one first.")
	}
	key, err := s.sealer.Open(e.signingKey, signingKeyColumn.AD(tokenID))
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if err := verify(key); err != nil {
		return nil, err
	}
	n, err := s.q.SignedNonceRecord(ctx, dbq.SignedNonceRecordParams{TokenID: tokenID, Nonce: nonce, ExpiresAt: now.Add(2 * SignatureSkew), Now: now})
	if err != nil {
		return nil, pg.Translate(err)
	}
	if n == 0 {
		return nil, ErrSignature("replayed", "The signature's nonce was already used: a signed request is accepted once; sign each request with a new nonce.")
	}
	return e.principal, nil
}
