package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/ratelimit"
)

// Config holds the lifetimes of the secrets a sign-in hands out and the brute-force limits.
type Config struct {
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// IdleTimeout ends a session unused for this long (0: never).
	IdleTimeout time.Duration
	Password    PasswordParams
	// LoginRate (attempts per second) and LoginBurst limit sign-ins per client address.
	LoginRate  float64
	LoginBurst int
	// Lockout locks an account after consecutive failures.
	Lockout ratelimit.Backoff
	// HashConcurrency bounds concurrent Argon2id work (memory), HashQueue the waiters.
	HashConcurrency int
	HashQueue       int
}

// withDefaults fills the brute-force limits a zero Config leaves unset.
func (c Config) withDefaults() Config {
	if c.LoginRate <= 0 {
		c.LoginRate = 0.2
	}
	if c.LoginBurst <= 0 {
		c.LoginBurst = 10
	}
	if c.Lockout.Threshold == 0 {
		c.Lockout = ratelimit.DefaultBackoff()
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = DefaultHashConcurrency()
	}
	if c.HashQueue <= 0 {
		c.HashQueue = 64
	}
	return c
}

// DefaultHashConcurrency is how many Argon2id hashes run at once unless configured: one per
// CPU the Go runtime uses but one, never fewer than one. A hash runs for tens of
// milliseconds without yielding, so hashes on every CPU would make every other request,
// a refused sign-in's 429 included, wait for the scheduler to preempt one.
func DefaultHashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Service signs people in and authenticates requests.
type Service struct {
	pool      *pgxpool.Pool
	q         *dbq.Queries
	signer    *TokenSigner
	sessions  *sessionCache
	cfg       Config
	logger    *slog.Logger
	now       func() time.Time
	dummyHash string
	perAddr   *ratelimit.Limiter
	mfaAddr   *ratelimit.Limiter
	gate      *ratelimit.Gate
	unknown   *failures
	sealer    Sealer
	audit     *audit.Writer
	// refusals records the refusals that do no other work (rate limits, locked accounts)
	// after the answer, coalesced (RunRefusals).
	refusals *audit.Coalescer
}

// NewService returns the authentication service.
func NewService(pool *pgxpool.Pool, signer *TokenSigner, sealer Sealer, aw *audit.Writer, cfg Config, logger *slog.Logger, now func() time.Time) (*Service, error) {
	cfg = cfg.withDefaults()
	dummy, err := decoyHash(cfg.Password)
	if err != nil {
		return nil, err
	}
	return &Service{
		pool: pool, q: dbq.New(pool), signer: signer, sessions: newSessionCache(time.Minute),
		cfg: cfg, logger: logger, now: now, dummyHash: dummy,
		perAddr:  ratelimit.NewLimiter(cfg.LoginRate, cfg.LoginBurst, now),
		mfaAddr:  ratelimit.NewLimiter(cfg.LoginRate, cfg.LoginBurst, now),
		sealer:   sealer,
		audit:    aw,
		refusals: audit.NewCoalescer(aw, time.Second, logger),
		gate:     ratelimit.NewGate(cfg.HashConcurrency, cfg.HashQueue),
		unknown:  newFailures(now),
	}, nil
}

// ClientInfo describes where a sign-in came from.
type ClientInfo struct {
	ClientAddr    string
	UserAgent     string
	CorrelationID string
}

// LoginInput is a sign-in attempt. OTP or RecoveryCode is the second factor of accounts
// with MFA active.
type LoginInput struct {
	Username     string
	Password     string
	OTP          string
	RecoveryCode string
	ClientInfo
}

// Tokens are the secrets of a session. They are shown once.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// Cookie is the value of the openwatch_session cookie; it expires with the session.
	Cookie         string
	SessionExpires time.Time
	User           dbq.User
	Roles          []string
	// MFAEnrollmentRequired: the workspace requires MFA and the user has none yet, so the
	// session may act on its own account only until the user enrols.
	MFAEnrollmentRequired bool
}

var errTokenExpired = errors.New("token expired")

func errInvalidCredentials() error {
	return apperr.New(apperr.CodeAuthInvalidCredentials, "The username or password is incorrect.")
}

func errBadRefresh() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The refresh token is unknown, expired or revoked; sign in again.")
}

func errRefreshReused() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The refresh token was already used; the session has been revoked. Sign in again.")
}

// Login checks a username and password and opens a session. Unknown users, wrong passwords
// and disabled accounts answer the same error after the same work; locking and rate
// limits treat unknown usernames like real ones, so they reveal nothing either. Anonymous.
// Errors: auth.invalid_credentials, rate_limit.exceeded, service.unavailable.
func (s *Service) Login(ctx context.Context, in LoginInput) (Tokens, error) {
	if ok, wait := s.perAddr.Allow(in.ClientAddr); !ok {
		s.refuse(ctx, nil, audit.ActionRateLimited, map[string]any{"username": in.Username})
		return Tokens{}, apperr.RateLimited("Too many sign-in attempts from this address; try again later.", wait)
	}
	user, err := s.q.UserGetByUsername(ctx, in.Username)
	found := err == nil
	if err = pg.IgnoreNotFound(err); err != nil {
		return Tokens{}, err
	}
	now := s.now()
	var lockedUntil time.Time
	if found && user.LockedUntil != nil {
		lockedUntil = *user.LockedUntil
	} else if !found {
		lockedUntil = s.unknown.lockedUntil(in.Username)
	}
	if now.Before(lockedUntil) {
		s.refuse(ctx, nil, audit.ActionLoginFailed, map[string]any{"username": in.Username, "reason": "locked"})
		return Tokens{}, errLocked(lockedUntil.Sub(now))
	}
	hash := s.dummyHash
	if found {
		hash = user.PasswordHash
	}
	var ok bool
	var verr error
	if err := s.gate.Do(ctx, func() { ok, verr = VerifyPassword(in.Password, hash) }); err != nil {
		return Tokens{}, errBusy(err)
	}
	if verr != nil {
		s.logger.ErrorContext(ctx, "stored password hash is malformed", slog.String("user_id", user.ID.String()))
	}
	if !found || !ok || user.DisabledAt != nil {
		reason := "bad_password"
		switch {
		case !found:
			reason = "unknown_user"
		case ok:
			reason = "disabled"
		}
		s.record(ctx, nil, audit.ActionLoginFailed, map[string]any{"username": in.Username, "reason": reason})
		if err := s.recordFailure(ctx, found, user, in.Username); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, errInvalidCredentials()
	}
	if err := s.checkPasswordAllowed(ctx, user); err != nil {
		return Tokens{}, err
	}
	var t Tokens
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if user.MfaEnabledAt != nil {
			if err := s.checkSecondFactor(ctx, q, user, in.OTP, in.RecoveryCode); err != nil {
				return err
			}
		}
		if err := q.UserLoginSucceeded(ctx, user.ID); err != nil {
			return pg.Translate(err)
		}
		sec, err := ReadSecurityConfig(ctx, q)
		if err != nil {
			return err
		}
		t, err = s.openSession(ctx, q, user, in.ClientInfo, nil)
		if err != nil {
			return err
		}
		t.MFAEnrollmentRequired = sec.RequireMFA && user.MfaEnabledAt == nil
		return s.audit.Append(ctx, tx, audit.For(ctx, &authz.Principal{UserID: user.ID}, audit.ActionLoginSucceeded, "user", user.ID.String(),
			map[string]any{"username": user.Username, "second_factor": user.MfaEnabledAt != nil}))
	})
	if apperr.Is(err, apperr.CodeMFAInvalid) {
		// A wrong second factor counts like a wrong password.
		s.record(ctx, nil, audit.ActionMFAFailed, map[string]any{"username": in.Username})
		if ferr := s.recordFailure(ctx, true, user, in.Username); ferr != nil {
			return Tokens{}, ferr
		}
	}
	return t, err
}

// record writes an audit event in its own transaction, for refusals that change nothing
// else. A failure to record is logged; it never turns a refusal into a success.
func (s *Service) record(ctx context.Context, p *authz.Principal, action audit.Action, detail map[string]any) {
	if err := s.audit.AppendAlone(ctx, audit.For(ctx, p, action, "user", "", detail)); err != nil {
		s.logger.ErrorContext(ctx, "record audit event", slog.String("action", string(action)), slog.Any("error", err))
	}
}

// refuse records a refusal that did no other work after the answer, coalesced with its
// repeats (audit.Coalescer): a client hammering a limit gets its 429 at once and writes one
// audit event per second, not one per attempt.
func (s *Service) refuse(ctx context.Context, p *authz.Principal, action audit.Action, detail map[string]any) {
	s.refusals.Add(audit.For(ctx, p, action, "user", "", detail))
}

// RunRefusals records the coalesced refusals every second until ctx ends, then the last
// ones. The process runs it beside its server (App.RunBackground).
func (s *Service) RunRefusals(ctx context.Context) { s.refusals.Run(ctx) }

// FlushRefusals records the refusals not recorded yet, now.
func (s *Service) FlushRefusals(ctx context.Context) error { return s.refusals.Flush(ctx) }

// recordFailure counts a failed sign-in and locks the account past the threshold.
func (s *Service) recordFailure(ctx context.Context, found bool, user dbq.User, username string) error {
	if !found {
		s.unknown.fail(username, s.cfg.Lockout)
		return nil
	}
	n, err := s.q.UserLoginFailed(ctx, user.ID)
	if err != nil {
		return pg.Translate(err)
	}
	if d := s.cfg.Lockout.LockFor(int(n)); d > 0 {
		until := s.now().Add(d)
		return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
			if err := dbq.New(tx).UserLock(ctx, dbq.UserLockParams{ID: user.ID, LockedUntil: &until}); err != nil {
				return pg.Translate(err)
			}
			return s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionLockedOut, "user", user.ID.String(),
				map[string]any{"username": user.Username, "failures": n, "locked_until": until}))
		})
	}
	return nil
}

func errLocked(wait time.Duration) *apperr.Error {
	return apperr.RateLimited("Too many failed sign-ins for this account; try again later.", wait)
}

func errBusy(err error) error {
	if errors.Is(err, ratelimit.ErrBusy) {
		return &apperr.Error{Code: apperr.CodeUnavailable, Message: "The server is busy with other sign-ins; retry in a moment.",
			Err: err, RetryAfter: time.Second}
	}
	return err
}

// openSession opens a session of user; ssoProvider names the single sign-on provider that
// vouched for the user, nil for a password sign-in.
func (s *Service) openSession(ctx context.Context, q *dbq.Queries, user dbq.User, in ClientInfo, ssoProvider *uuid.UUID) (Tokens, error) {
	sessionID, err := uuid.NewV7()
	if err != nil {
		return Tokens{}, apperr.Internal(err)
	}
	cookieSecret, err := randomSecret(32)
	if err != nil {
		return Tokens{}, apperr.Internal(err)
	}
	expires := s.now().Add(s.cfg.RefreshTokenTTL)
	if _, err := q.SessionInsert(ctx, dbq.SessionInsertParams{
		ID: sessionID, UserID: user.ID, CookieSecretHash: digest(cookieSecret),
		ExpiresAt: expires, ClientAddr: in.ClientAddr, UserAgent: truncate(in.UserAgent, 512), CorrelationID: in.CorrelationID,
		SsoProviderID: ssoProvider,
	}); err != nil {
		return Tokens{}, pg.Translate(err)
	}
	t, err := s.issueTokens(ctx, q, user, sessionID, expires)
	if err != nil {
		return Tokens{}, err
	}
	t.Cookie = sessionID.String() + "." + cookieSecret
	return t, nil
}

// issueTokens returns a new access and refresh token pair for a session of user, with the
// user's roles.
func (s *Service) issueTokens(ctx context.Context, q *dbq.Queries, user dbq.User, sessionID uuid.UUID, expires time.Time) (Tokens, error) {
	refresh, err := s.newRefreshToken(ctx, q, sessionID)
	if err != nil {
		return Tokens{}, err
	}
	access, _, err := s.signer.Issue(user.ID, sessionID)
	if err != nil {
		return Tokens{}, apperr.Internal(err)
	}
	roles, err := q.UserRoleList(ctx, user.ID)
	if err != nil {
		return Tokens{}, pg.Translate(err)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, SessionExpires: expires, User: user, Roles: roles}, nil
}

func (s *Service) newRefreshToken(ctx context.Context, q *dbq.Queries, sessionID uuid.UUID) (string, error) {
	secret, err := randomSecret(32)
	if err != nil {
		return "", apperr.Internal(err)
	}
	token := "owr_" + secret
	id, err := uuid.NewV7()
	if err != nil {
		return "", apperr.Internal(err)
	}
	if err := q.RefreshTokenInsert(ctx, dbq.RefreshTokenInsertParams{ID: id, SessionID: sessionID, TokenHash: digest(token)}); err != nil {
		return "", pg.Translate(err)
	}
	return token, nil
}

// Refresh exchanges a refresh token for a new access and refresh token pair. Each refresh
// token works once: a used one revokes its whole session. The session's absolute deadline
// does not move. Anonymous.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	var t Tokens
	var reused *uuid.UUID
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		row, err := q.RefreshTokenGet(ctx, digest(refreshToken))
		if err != nil {
			return pg.NotFoundAs(err, errBadRefresh())
		}
		if row.UsedAt != nil {
			// A stolen token raced its owner, or a client replayed one: end the session.
			if _, err := q.SessionRevoke(ctx, row.SessionID); err != nil {
				return pg.Translate(err)
			}
			if err := q.AuthNotify(ctx, "session:"+row.SessionID.String()); err != nil {
				return pg.Translate(err)
			}
			reused = &row.SessionID
			return s.audit.Append(ctx, tx, audit.For(ctx, &authz.Principal{UserID: row.UserID}, audit.ActionRefreshReused, "session", row.SessionID.String(), nil))
		}
		if row.RevokedAt != nil || !s.now().Before(row.ExpiresAt) {
			return errBadRefresh()
		}
		// The same test every request passes: live, not idle too long, user enabled.
		if _, err := q.SessionGetActive(ctx, dbq.SessionGetActiveParams{ID: row.SessionID, IdleSeconds: int32(s.cfg.IdleTimeout / time.Second)}); err != nil {
			return pg.NotFoundAs(err, errBadRefresh())
		}
		if err := q.SessionTouch(ctx, row.SessionID); err != nil {
			return pg.Translate(err)
		}
		user, err := q.UserGetByID(ctx, row.UserID)
		if err != nil {
			return pg.NotFoundAs(err, errBadRefresh())
		}
		if user.DisabledAt != nil {
			return errBadRefresh()
		}
		if err := q.RefreshTokenMarkUsed(ctx, row.ID); err != nil {
			return pg.Translate(err)
		}
		t, err = s.issueTokens(ctx, q, user, row.SessionID, row.ExpiresAt)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	if reused != nil {
		s.InvalidateSession(*reused)
		return Tokens{}, errRefreshReused()
	}
	return t, nil
}

// Logout revokes the caller's session with its refresh tokens and cookie. account:self.
func (s *Service) Logout(ctx context.Context, p *authz.Principal) error {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if _, err := q.SessionRevoke(ctx, p.SessionID); err != nil {
			return pg.Translate(err)
		}
		if err := q.AuthNotify(ctx, "session:"+p.SessionID.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionLogout, "session", p.SessionID.String(), nil))
	})
	if err == nil {
		s.InvalidateSession(p.SessionID)
	}
	return err
}

// ChangePassword replaces the caller's password after checking the current one, and ends
// every other session of the caller. account:self.
// Errors: auth.invalid_credentials (current password wrong), validation_failed (policy).
func (s *Service) ChangePassword(ctx context.Context, p *authz.Principal, current, next string) error {
	if p.IsServiceAccount() {
		return errNotForServiceAccounts("password")
	}
	user, err := s.q.UserGetByID(ctx, p.UserID)
	if err != nil {
		return pg.Translate(err)
	}
	var ok bool
	if err := s.gate.Do(ctx, func() { ok, _ = VerifyPassword(current, user.PasswordHash) }); err != nil {
		return errBusy(err)
	}
	if !ok {
		return apperr.New(apperr.CodeAuthInvalidCredentials, "The current password is incorrect.").WithDetail("field", "current_password")
	}
	if err := CheckPassword("new_password", next, user.Username); err != nil {
		return err
	}
	hash, err := HashPassword(next, s.cfg.Password)
	if err != nil {
		return apperr.Internal(err)
	}
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if _, err := q.UserSetPassword(ctx, dbq.UserSetPasswordParams{ID: user.ID, PasswordHash: hash}); err != nil {
			return pg.Translate(err)
		}
		keep := p.SessionID
		if _, err := q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: user.ID, Keep: &keep}); err != nil {
			return pg.Translate(err)
		}
		if err := q.AuthNotify(ctx, "user:"+user.ID.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionPasswordChanged, "user", user.ID.String(), nil))
	})
	if err == nil {
		s.InvalidateUser(user.ID)
	}
	return err
}

func errBadToken() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The access token is invalid or has expired.")
}

func errBadCookie() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The session cookie is invalid or has expired.")
}

func errSessionEnded() error {
	return apperr.New(apperr.CodeAuthInvalidToken, "The session has ended (signed out, revoked, expired or idle too long); sign in again.")
}

// AuthenticateBearer resolves an access token to its principal.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (*authz.Principal, error) {
	claims, err := s.signer.Verify(token)
	if err != nil {
		return nil, errBadToken()
	}
	e, err := s.session(ctx, claims.SessionID)
	if err != nil {
		return nil, err
	}
	if e.principal.UserID != claims.UserID {
		return nil, errBadToken()
	}
	return e.principal, nil
}

// AuthenticateCookie resolves an openwatch_session cookie value to its principal.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) AuthenticateCookie(ctx context.Context, value string) (*authz.Principal, error) {
	idPart, secret, ok := strings.Cut(value, ".")
	if !ok || secret == "" {
		return nil, errBadCookie()
	}
	id, err := uuid.Parse(idPart)
	if err != nil {
		return nil, errBadCookie()
	}
	e, err := s.session(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(digest(secret), e.cookieHash) != 1 {
		return nil, errBadCookie()
	}
	return e.principal, nil
}

// session returns the live session id, from the cache when it can be trusted.
func (s *Service) session(ctx context.Context, id uuid.UUID) (*sessionEntry, error) {
	now := s.now()
	if e := s.sessions.get(id, now); e != nil {
		return e, nil
	}
	row, err := s.q.SessionGetActive(ctx, dbq.SessionGetActiveParams{ID: id, IdleSeconds: int32(s.cfg.IdleTimeout / time.Second)})
	if err != nil {
		return nil, pg.NotFoundAs(err, errSessionEnded())
	}
	// Cached entries are reloaded at least every minute, so this records activity about
	// once a minute per busy session.
	if err := s.q.SessionTouch(ctx, id); err != nil {
		return nil, pg.Translate(err)
	}
	perms, err := ResolvePermissions(ctx, s.q, row.Roles)
	if err != nil {
		return nil, err
	}
	// A single sign-on session had the identity provider as its second factor.
	if !row.MfaEnabled && !row.ViaSso {
		sec, err := ReadSecurityConfig(ctx, s.q)
		if err != nil {
			return nil, err
		}
		if sec.RequireMFA {
			perms = mfaRestricted()
		}
	}
	e := &sessionEntry{
		principal: &authz.Principal{
			UserID: row.UserID, SessionID: row.SessionID, Username: row.Username, Email: row.Email,
			Roles: row.Roles, Role: authz.PrimaryRole(row.Roles), Permissions: perms,
		},
		cookieHash: row.CookieSecretHash,
		expiresAt:  row.ExpiresAt,
		loadedAt:   now,
	}
	s.sessions.put(id, e)
	return e, nil
}

// ResolvePermissions returns the union of the permissions of roles, reading custom roles
// from the database.
func ResolvePermissions(ctx context.Context, q *dbq.Queries, roles []string) (authz.PermissionSet, error) {
	var custom []string
	for _, r := range roles {
		if !authz.IsBuiltInRole(r) {
			custom = append(custom, r)
		}
	}
	var defs map[string][]string
	if len(custom) > 0 {
		rows, err := q.CustomRolesByIDs(ctx, custom)
		if err != nil {
			return nil, pg.Translate(err)
		}
		defs = make(map[string][]string, len(rows))
		for _, r := range rows {
			defs[r.ID] = r.Permissions
		}
	}
	return authz.Resolve(roles, defs), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func errSSORequired(provider string) error {
	return apperr.Newf(apperr.CodeSSORequired, "This account signs in through single sign-on: use the %q button.", provider).
		WithDetail("provider", provider)
}

// checkPasswordAllowed refuses a password sign-in, after a correct password, of a user
// linked to an enabled single sign-on provider marked SSO-only, unless the user holds the
// admin role: admins are the break-glass accounts that still sign in when the identity
// provider is down.
func (s *Service) checkPasswordAllowed(ctx context.Context, user dbq.User) error {
	provider, err := s.q.SSOOnlyProviderForUser(ctx, user.ID)
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	roles, err := s.q.UserRoleList(ctx, user.ID)
	if err != nil {
		return pg.Translate(err)
	}
	if slices.Contains(roles, authz.RoleAdmin) {
		return nil
	}
	s.record(ctx, nil, audit.ActionLoginFailed, map[string]any{"username": user.Username, "reason": "sso_required"})
	return errSSORequired(provider)
}

// OpenSSOSessionTx opens a session of user inside tx for a sign-in through the single
// sign-on provider provider, which already checked the user's credentials and second
// factor (so the workspace's MFA requirement does not restrict the session). The caller
// records the audit event.
func (s *Service) OpenSSOSessionTx(ctx context.Context, tx pgx.Tx, user dbq.User, provider uuid.UUID, in ClientInfo) (Tokens, error) {
	q := dbq.New(tx)
	if err := q.UserLoginSucceeded(ctx, user.ID); err != nil {
		return Tokens{}, pg.Translate(err)
	}
	return s.openSession(ctx, q, user, in, &provider)
}
