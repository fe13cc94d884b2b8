package auth

import (
	"context"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/authz"
)

// SessionPrincipal returns the current principal of a user's live session, reloading its
// roles and permissions the way a bearer token or cookie would: a session that ended, or
// whose user is disabled or deleted, fails with auth.invalid_token. Callers that stored a
// reference to a session (such as event stream tickets) use it to act as that session.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) SessionPrincipal(ctx context.Context, sessionID, userID uuid.UUID) (*authz.Principal, error) {
	e, err := s.session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if e.principal.UserID != userID {
		return nil, errSessionEnded
	}
	return e.principal, nil
}

// TokenPrincipal returns the current principal of a service account's API token without
// its secret (the caller proved possession some other way): a revoked or expired token,
// or a disabled account, fails with auth.invalid_token.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) TokenPrincipal(ctx context.Context, tokenID uuid.UUID) (*authz.Principal, error) {
	now := s.now()
	if e := s.sessions.get(tokenID, now); e != nil && e.principal.TokenID == tokenID {
		return e.principal, nil
	}
	e, err := s.loadAPIToken(ctx, tokenID, now)
	if err != nil {
		return nil, err
	}
	return e.principal, nil
}

// Reload returns the current principal behind p: its API token's, or its session's.
// Long-lived consumers of a principal (event streams) call it to notice a credential that
// ended and permissions that changed. Errors: auth.invalid_token, service.unavailable.
func (s *Service) Reload(ctx context.Context, p *authz.Principal) (*authz.Principal, error) {
	if p.IsServiceAccount() {
		return s.TokenPrincipal(ctx, p.TokenID)
	}
	return s.SessionPrincipal(ctx, p.SessionID, p.UserID)
}
