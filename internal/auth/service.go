package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Config holds the lifetimes of the secrets a sign-in hands out.
type Config struct {
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Password        PasswordParams
}

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
}

// NewService returns the authentication service.
func NewService(pool *pgxpool.Pool, signer *TokenSigner, cfg Config, logger *slog.Logger, now func() time.Time) (*Service, error) {
	dummy, err := HashPassword("openwatch-timing-equaliser", cfg.Password)
	if err != nil {
		return nil, err
	}
	return &Service{
		pool: pool, q: dbq.New(pool), signer: signer, sessions: newSessionCache(time.Minute),
		cfg: cfg, logger: logger, now: now, dummyHash: dummy,
	}, nil
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Username      string
	Password      string
	ClientAddr    string
	UserAgent     string
	CorrelationID string
}

// LoginResult carries the secrets of a new session. They are shown once.
type LoginResult struct {
	AccessToken  string
	RefreshToken string
	// Cookie is the value of the openwatch_session cookie; it expires with the session.
	Cookie         string
	SessionExpires time.Time
	User           dbq.User
}

var (
	errInvalidCredentials = apperr.New(apperr.CodeAuthInvalidCredentials, "The username or password is incorrect.")
	errTokenExpired       = errors.New("token expired")
)

// Login checks a username and password and opens a session. Unknown users, wrong passwords
// and disabled accounts answer the same error after the same work. Anonymous.
// Errors: auth.invalid_credentials, service.unavailable.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	user, err := s.q.UserGetByUsername(ctx, in.Username)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return LoginResult{}, pg.Translate(err)
	}
	hash := s.dummyHash
	if found {
		hash = user.PasswordHash
	}
	ok, verr := VerifyPassword(in.Password, hash)
	if verr != nil {
		s.logger.ErrorContext(ctx, "stored password hash is malformed", slog.String("user_id", user.ID.String()))
	}
	if !found || !ok || user.DisabledAt != nil {
		return LoginResult{}, errInvalidCredentials
	}
	return s.openSession(ctx, user, in)
}

func (s *Service) openSession(ctx context.Context, user dbq.User, in LoginInput) (LoginResult, error) {
	sessionID, err := uuid.NewV7()
	if err != nil {
		return LoginResult{}, apperr.Internal(err)
	}
	refresh, err := randomSecret(32)
	if err != nil {
		return LoginResult{}, apperr.Internal(err)
	}
	refresh = "owr_" + refresh
	cookieSecret, err := randomSecret(32)
	if err != nil {
		return LoginResult{}, apperr.Internal(err)
	}
	expires := s.now().Add(s.cfg.RefreshTokenTTL)
	if _, err := s.q.SessionInsert(ctx, dbq.SessionInsertParams{
		ID: sessionID, UserID: user.ID, RefreshTokenHash: digest(refresh), CookieSecretHash: digest(cookieSecret),
		ExpiresAt: expires, ClientAddr: in.ClientAddr, UserAgent: truncate(in.UserAgent, 512), CorrelationID: in.CorrelationID,
	}); err != nil {
		return LoginResult{}, pg.Translate(err)
	}
	access, _, err := s.signer.Issue(user.ID, sessionID)
	if err != nil {
		return LoginResult{}, apperr.Internal(err)
	}
	return LoginResult{
		AccessToken: access, RefreshToken: refresh, Cookie: sessionID.String() + "." + cookieSecret,
		SessionExpires: expires, User: user,
	}, nil
}

var (
	errBadToken     = apperr.New(apperr.CodeAuthInvalidToken, "The access token is invalid or has expired.")
	errBadCookie    = apperr.New(apperr.CodeAuthInvalidToken, "The session cookie is invalid or has expired.")
	errSessionEnded = apperr.New(apperr.CodeAuthInvalidToken, "The session has ended; sign in again.")
)

// AuthenticateBearer resolves an access token to its principal.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (*authz.Principal, error) {
	claims, err := s.signer.Verify(token)
	if err != nil {
		return nil, errBadToken
	}
	e, err := s.session(ctx, claims.SessionID)
	if err != nil {
		return nil, err
	}
	if e.principal.UserID != claims.UserID {
		return nil, errBadToken
	}
	return e.principal, nil
}

// AuthenticateCookie resolves an openwatch_session cookie value to its principal.
// Errors: auth.invalid_token, service.unavailable.
func (s *Service) AuthenticateCookie(ctx context.Context, value string) (*authz.Principal, error) {
	idPart, secret, ok := strings.Cut(value, ".")
	if !ok || secret == "" {
		return nil, errBadCookie
	}
	id, err := uuid.Parse(idPart)
	if err != nil {
		return nil, errBadCookie
	}
	e, err := s.session(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(digest(secret), e.cookieHash) != 1 {
		return nil, errBadCookie
	}
	return e.principal, nil
}

// session returns the live session id, from the cache when it can be trusted.
func (s *Service) session(ctx context.Context, id uuid.UUID) (*sessionEntry, error) {
	now := s.now()
	if e := s.sessions.get(id, now); e != nil {
		return e, nil
	}
	row, err := s.q.SessionGetActive(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, pg.Translate(err)
	}
	perms := authz.RolePermissions(row.Role)
	if perms == nil {
		return nil, apperr.Internal(fmt.Errorf("user %s has unknown role %q", row.UserID, row.Role))
	}
	e := &sessionEntry{
		principal: &authz.Principal{
			UserID: row.UserID, SessionID: row.SessionID, Username: row.Username, Email: row.Email,
			Role: row.Role, Permissions: perms,
		},
		cookieHash: row.CookieSecretHash,
		expiresAt:  row.ExpiresAt,
		loadedAt:   now,
	}
	s.sessions.put(id, e)
	return e, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
