package auth

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/mfa"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// Sealer seals secrets at rest (*seal.Keyring).
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// SecuritySettingKey is the settings row holding SecurityConfig.
const SecuritySettingKey = "security"

// SecurityConfig is the workspace security settings document.
type SecurityConfig struct {
	RequireMFA bool `json:"require_mfa"`
}

// ReadSecurityConfig returns the workspace security settings (defaults when unset).
func ReadSecurityConfig(ctx context.Context, q *dbq.Queries) (SecurityConfig, error) {
	var c SecurityConfig
	raw, err := q.SettingGet(ctx, SecuritySettingKey)
	if err != nil {
		return c, pg.IgnoreNotFound(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, apperr.Internal(err)
	}
	return c, nil
}

func errMFARequired() error {
	return apperr.New(apperr.CodeMFARequired, "This account requires a one-time code: send otp (or recovery_code) with the username and password.")
}

func errMFAInvalid() error {
	return apperr.New(apperr.CodeMFAInvalid, "The one-time code is invalid or was already used.")
}

// checkSecondFactor verifies the otp or recovery code of a user with MFA active, inside
// the sign-in transaction. A code's time step is accepted once only.
func (s *Service) checkSecondFactor(ctx context.Context, q *dbq.Queries, user dbq.User, otp, recovery string) error {
	switch {
	case otp != "":
		secret, err := s.sealer.Open(user.MfaSecretSealed, mfaSecretColumn.AD(user.ID))
		if err != nil {
			return apperr.Internal(err)
		}
		step, err := mfa.Verify(string(secret), otp, s.now(), user.MfaLastStep)
		if err != nil {
			return errMFAInvalid()
		}
		n, err := q.UserMFAAdvance(ctx, dbq.UserMFAAdvanceParams{ID: user.ID, Step: step})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errMFAInvalid() // a concurrent sign-in used this code first
		}
		return nil
	case recovery != "":
		n, err := q.RecoveryCodeUse(ctx, dbq.RecoveryCodeUseParams{UserID: user.ID, CodeHash: mfa.HashRecoveryCode(recovery)})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errMFAInvalid()
		}
		return nil
	}
	return errMFARequired()
}

// Enrollment is a new, unverified TOTP secret.
type Enrollment struct {
	ProvisioningURI string
	Secret          string
}

// EnrollMFA creates a TOTP secret for the caller, sealed at rest, to be confirmed by
// VerifyMFA. account:self. Errors: resource.conflict (MFA already active).
func (s *Service) EnrollMFA(ctx context.Context, p *authz.Principal) (Enrollment, error) {
	if p.IsServiceAccount() {
		return Enrollment{}, errNotForServiceAccounts("second factor")
	}
	user, err := s.q.UserGetByID(ctx, p.UserID)
	if err != nil {
		return Enrollment{}, pg.Translate(err)
	}
	if user.MfaEnabledAt != nil {
		return Enrollment{}, apperr.Conflict("MFA is already active for this account.")
	}
	secret, uri, err := mfa.NewSecret(mfa.Issuer, user.Username)
	if err != nil {
		return Enrollment{}, apperr.Internal(err)
	}
	sealed, err := s.sealer.Seal([]byte(secret), mfaSecretColumn.AD(user.ID))
	if err != nil {
		return Enrollment{}, apperr.Internal(err)
	}
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := dbq.New(tx).UserSetMFASecret(ctx, dbq.UserSetMFASecretParams{ID: user.ID, Sealed: sealed}); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionMFAEnrolled, "user", user.ID.String(), nil))
	})
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{ProvisioningURI: uri, Secret: secret}, nil
}

// VerifyMFA checks a code against the caller's secret. The first success activates MFA and
// returns ten recovery codes (shown once); later successes return none. account:self.
// Errors: auth.mfa_invalid, rate_limit.exceeded, resource.conflict (nothing enrolled).
func (s *Service) VerifyMFA(ctx context.Context, p *authz.Principal, clientAddr, otp string) ([]string, error) {
	if p.IsServiceAccount() {
		return nil, errNotForServiceAccounts("second factor")
	}
	if ok, wait := s.mfaAddr.Allow(clientAddr); !ok {
		s.refuse(ctx, p, audit.ActionRateLimited, map[string]any{"what": "mfa_verify"})
		return nil, apperr.RateLimited("Too many one-time code attempts from this address; try again later.", wait)
	}
	var codes []string
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		user, err := q.UserGetByID(ctx, p.UserID)
		if err != nil {
			return pg.Translate(err)
		}
		if user.MfaSecretSealed == nil {
			return apperr.Conflict("No authenticator is enrolled: call POST /auth/mfa:enroll first.")
		}
		if err := s.checkSecondFactor(ctx, q, user, otp, ""); err != nil {
			return err
		}
		if user.MfaEnabledAt != nil {
			return nil
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionMFAVerified, "user", user.ID.String(), nil)); err != nil {
			return err
		}
		if err := q.UserEnableMFA(ctx, user.ID); err != nil {
			return pg.Translate(err)
		}
		var hashes [][]byte
		codes, hashes, err = mfa.NewRecoveryCodes()
		if err != nil {
			return apperr.Internal(err)
		}
		if err := q.RecoveryCodesDelete(ctx, user.ID); err != nil {
			return pg.Translate(err)
		}
		for _, h := range hashes {
			if err := q.RecoveryCodeInsert(ctx, dbq.RecoveryCodeInsertParams{UserID: user.ID, CodeHash: h}); err != nil {
				return pg.Translate(err)
			}
		}
		return pg.Translate(q.AuthNotify(ctx, "user:"+user.ID.String()))
	})
	if apperr.Is(err, apperr.CodeMFAInvalid) {
		s.record(ctx, p, audit.ActionMFAFailed, nil)
	}
	if err != nil {
		return nil, err
	}
	if codes != nil {
		s.InvalidateUser(p.UserID) // a restricted session gains its full permissions now
	}
	return codes, nil
}

// mfaRestricted is what a session may do while the workspace requires MFA and its user
// has not enrolled: act on its own account only.
func mfaRestricted() authz.PermissionSet { return authz.NewPermissionSet(authz.PermAccountSelf) }

// SecurityConfig returns the workspace security settings. security:read.
func (s *Service) SecurityConfig(ctx context.Context) (SecurityConfig, error) {
	return ReadSecurityConfig(ctx, s.q)
}

// SetSecurityConfig replaces the workspace security settings; every cached session is
// dropped so the change applies to the very next request. security:write.
func (s *Service) SetSecurityConfig(ctx context.Context, p *authz.Principal, c SecurityConfig) (SecurityConfig, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return c, apperr.Internal(err)
	}
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := q.SettingPut(ctx, dbq.SettingPutParams{Key: SecuritySettingKey, Value: raw, UpdatedBy: p.Actor().UserID()}); err != nil {
			return pg.Translate(err)
		}
		if err := q.AuthNotify(ctx, "*"); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionSecurityConfigChanged, "setting", SecuritySettingKey,
			map[string]any{"require_mfa": c.RequireMFA}))
	})
	if err == nil {
		s.sessions.invalidate("*")
	}
	return c, err
}
