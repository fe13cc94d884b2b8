package auth

import (
	"context"

	"github.com/openwatch/openwatch/internal/authz"
)

// Reload returns the current principal behind p, with the roles and permissions it holds
// now: its API token's when p is a service account (TokenID), otherwise its user's live
// session's (SessionID and UserID). Long-lived consumers of a principal (event streams)
// call it to notice a credential that ended and permissions that changed, and callers that
// stored a reference to a credential (event stream tickets) to act as it again. A session
// that ended, a user disabled or deleted, a token revoked or expired, or an account
// disabled fails with auth.invalid_token.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) Reload(ctx context.Context, p *authz.Principal) (*authz.Principal, error) {
	if p.IsServiceAccount() {
		e, err := s.apiToken(ctx, p.TokenID)
		if err != nil {
			return nil, err
		}
		return e.principal, nil
	}
	e, err := s.session(ctx, p.SessionID)
	if err != nil {
		return nil, err
	}
	if e.principal.UserID != p.UserID {
		return nil, errSessionEnded()
	}
	return e.principal, nil
}
