package auth

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// APITokenPrefix starts every service account token; the rest is `<id hex>.<secret>`.
const APITokenPrefix = "owt_"

// NewAPITokenSecret returns a new token's secret, its stored digest, and the raw token.
func NewAPITokenSecret(id uuid.UUID) (secret string, hash []byte, raw string, err error) {
	secret, err = randomSecret(32)
	if err != nil {
		return "", nil, "", err
	}
	return secret, digest(secret), APITokenPrefix + hex.EncodeToString(id[:]) + "." + secret, nil
}

// ParseAPIToken splits a raw bearer token into id and secret; ok is false for anything
// that is not an API token.
func ParseAPIToken(raw string) (id uuid.UUID, secret string, ok bool) {
	rest, found := strings.CutPrefix(raw, APITokenPrefix)
	if !found {
		return uuid.Nil, "", false
	}
	idPart, secret, found := strings.Cut(rest, ".")
	if !found || secret == "" {
		return uuid.Nil, "", false
	}
	id, err := uuid.Parse(idPart)
	if err != nil {
		return uuid.Nil, "", false
	}
	return id, secret, true
}

func errUnknownToken() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The API token is unknown: check the token id and secret.")
}

// AuthenticateAPIToken resolves a service account token (id and secret, from a bearer
// token or HTTP Basic) to its principal. The 401 message says whether the token is
// unknown, expired or revoked, or its account disabled.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) AuthenticateAPIToken(ctx context.Context, id uuid.UUID, secret string) (*authz.Principal, error) {
	e, err := s.apiToken(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(digest(secret), e.cookieHash) != 1 {
		return nil, errUnknownToken()
	}
	return e.principal, nil
}

// apiToken returns the live API token id, from the cache when it can be trusted (the
// cache also holds sessions, hence the id check).
func (s *Service) apiToken(ctx context.Context, id uuid.UUID) (*sessionEntry, error) {
	now := s.now()
	if e := s.sessions.get(id, now); e != nil && e.principal.TokenID == id {
		return e, nil
	}
	return s.loadAPIToken(ctx, id, now)
}

func (s *Service) loadAPIToken(ctx context.Context, id uuid.UUID, now time.Time) (*sessionEntry, error) {
	row, err := s.q.APITokenAuth(ctx, id)
	if err != nil {
		return nil, pg.NotFoundAs(err, errUnknownToken())
	}
	switch {
	case row.RevokedAt != nil:
		return nil, apperr.Newf(apperr.CodeAuthInvalidToken, "The API token was revoked on %s.", row.RevokedAt.UTC().Format(time.RFC3339))
	case row.AccountDisabledAt != nil:
		return nil, apperr.Newf(apperr.CodeAuthInvalidToken, "The service account %q is disabled; its tokens no longer work.", row.AccountName)
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, apperr.Newf(apperr.CodeAuthInvalidToken, "The API token expired on %s.", row.ExpiresAt.UTC().Format(time.RFC3339))
	}
	perms, err := ResolvePermissions(ctx, s.q, []string{row.Role})
	if err != nil {
		return nil, err
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		if err := s.q.APITokenTouch(ctx, id); err != nil {
			s.logger.WarnContext(ctx, "record api token use", "error", err)
		}
	}
	expires := now.Add(24 * time.Hour * 365 * 100)
	if row.ExpiresAt != nil {
		expires = *row.ExpiresAt
	}
	e := &sessionEntry{
		principal: &authz.Principal{
			ServiceAccountID: row.AccountID, TokenID: row.ID, Username: row.AccountName,
			Roles: []string{row.Role}, Role: row.Role, Permissions: perms,
		},
		cookieHash: row.SecretHash,
		signingKey: row.SigningKeySealed,
		expiresAt:  expires,
		loadedAt:   now,
	}
	s.sessions.put(id, e)
	return e, nil
}

// InvalidateServiceAccount drops the cached tokens of a service account in this process.
func (s *Service) InvalidateServiceAccount(id uuid.UUID) { s.sessions.invalidate("sa:" + id.String()) }

// InvalidateToken drops one cached token in this process.
func (s *Service) InvalidateToken(id uuid.UUID) { s.sessions.invalidate("token:" + id.String()) }

// errNotForServiceAccounts refuses operations that only make sense for people.
func errNotForServiceAccounts(what string) error {
	return apperr.Conflict(fmt.Sprintf("Service accounts have no %s.", what))
}
