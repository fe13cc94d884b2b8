package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// Invalidator drops this process's cached tokens at once.
type Invalidator interface {
	InvalidateServiceAccount(id uuid.UUID)
	InvalidateToken(id uuid.UUID)
}

// Auth drops cached tokens and makes sealed signing keys (*auth.Service).
type Auth interface {
	Invalidator
	NewSigningKey(tokenID uuid.UUID) (key, sealed []byte, err error)
}

// Service manages service accounts and tokens.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	inv   Auth
	audit *audit.Writer
	now   func() time.Time
}

// NewService returns the service account service.
func NewService(pool *pgxpool.Pool, inv Auth, aw *audit.Writer, now func() time.Time) *Service {
	return &Service{pool: pool, q: dbq.New(pool), inv: inv, audit: aw, now: now}
}

// DefaultTokenTTL is the lifetime of a token minted without ttl or eternal.
const DefaultTokenTTL = 90 * 24 * time.Hour

// Input describes an account.
type Input struct {
	Name        string
	Description string
	Role        string
}

func errNotFound() error { return apperr.NotFound("The service account does not exist.") }

// Create adds an account. The actor must hold every permission of the role. Guarded by
// service_account:write. Errors: validation_failed, authz.permission_denied, resource.conflict.
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in Input) (dbq.ServiceAccount, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return dbq.ServiceAccount{}, apperr.Internal(err)
	}
	var a dbq.ServiceAccount
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := auth.CheckGrantable(ctx, q, actor, "role", in.Role); err != nil {
			return err
		}
		a, err = q.ServiceAccountInsert(ctx, dbq.ServiceAccountInsertParams{
			ID: id, Name: in.Name, Description: in.Description, Role: in.Role, CreatedBy: actor.Actor().String(),
		})
		if err != nil {
			return nameConflict(err, in.Name)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionServiceAccountCreated, "service_account", id.String(),
			map[string]any{"name": in.Name, "role": in.Role}))
	})
	return a, err
}

func nameConflict(err error, name string) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return apperr.Conflict(fmt.Sprintf("A service account named %q already exists.", name)).WithDetail("field", "name")
	}
	return err
}

// List returns a page of accounts in creation order. Guarded by service_account:read.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.ServiceAccount], error) {
	rows, err := s.q.ServiceAccountList(ctx, dbq.ServiceAccountListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.ServiceAccount]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(a dbq.ServiceAccount) uuid.UUID { return a.ID }), nil
}

// Get returns an account, disabled ones too. Guarded by service_account:read. Errors:
// resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbq.ServiceAccount, error) {
	a, err := s.q.ServiceAccountGet(ctx, id)
	return a, pg.NotFoundAs(err, errNotFound())
}

// Update replaces an active account's name, description and role. Tokens whose role now
// exceeds the account's are revoked. Guarded by service_account:write.
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in Input) (dbq.ServiceAccount, error) {
	var a dbq.ServiceAccount
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := auth.CheckGrantable(ctx, q, actor, "role", in.Role); err != nil {
			return err
		}
		var err error
		a, err = q.ServiceAccountUpdate(ctx, dbq.ServiceAccountUpdateParams{ID: id, Name: &in.Name, Description: &in.Description, Role: &in.Role})
		if err != nil {
			return nameConflict(pg.NotFoundAs(err, errNotFound()), in.Name)
		}
		if _, err := auth.RevokeExceedingTokens(ctx, q, id, in.Role); err != nil {
			return err
		}
		if err := q.AuthNotify(ctx, "sa:"+id.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionServiceAccountUpdated, "service_account", id.String(),
			map[string]any{"name": in.Name, "role": in.Role}))
	})
	if err == nil {
		s.inv.InvalidateServiceAccount(id)
	}
	return a, err
}

// Disable disables an account and revokes its tokens. Guarded by service_account:write.
func (s *Service) Disable(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if _, err := q.ServiceAccountGet(ctx, id); err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		if _, err := q.ServiceAccountDisable(ctx, id); err != nil {
			return pg.Translate(err)
		}
		n, err := q.APITokenRevokeAll(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if err := q.AuthNotify(ctx, "sa:"+id.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionServiceAccountDeleted, "service_account", id.String(),
			map[string]any{"tokens_revoked": n}))
	})
	if err == nil {
		s.inv.InvalidateServiceAccount(id)
	}
	return err
}

// Tokens lists an account's token metadata. Guarded by service_account:read.
func (s *Service) Tokens(ctx context.Context, id uuid.UUID) ([]dbq.ApiToken, error) {
	if _, err := s.q.ServiceAccountGet(ctx, id); err != nil {
		return nil, pg.NotFoundAs(err, errNotFound())
	}
	ts, err := s.q.APITokenList(ctx, id)
	return ts, pg.Translate(err)
}

// TokenInput describes a token to mint.
type TokenInput struct {
	Name    string
	TTL     string
	Eternal bool
	Role    string
	// SigningKey also creates a signing key for signed requests.
	SigningKey bool
}

// ParseTTL reads a lifetime such as 30m, 24h or 90d.
func ParseTTL(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, errors.New("too short")
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a positive number")
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 || n > int64(100*365*24*time.Hour/unit) {
		return 0, errors.New("out of range")
	}
	return time.Duration(n) * unit, nil
}

// Minted is a new token: its raw value and signing key (when asked for), both shown once.
type Minted struct {
	Raw        string
	SigningKey []byte
	Token      dbq.ApiToken
}

// MintToken creates a token for an active account and returns its raw value (and signing
// key, when asked for) once. The token's role (default: the account's) may not exceed the
// account's. Guarded by service_account:write. Errors: validation_failed,
// resource.not_found, resource.conflict (account disabled).
func (s *Service) MintToken(ctx context.Context, actor *authz.Principal, accountID uuid.UUID, in TokenInput) (Minted, error) {
	m, err := s.mintToken(ctx, actor, accountID, in)
	if err != nil {
		return Minted{}, err
	}
	if in.SigningKey {
		m.SigningKey, m.Token, err = s.CreateSigningKey(ctx, actor, accountID, m.Token.ID)
		if err != nil {
			return Minted{}, err
		}
	}
	return m, nil
}

func (s *Service) mintToken(ctx context.Context, actor *authz.Principal, accountID uuid.UUID, in TokenInput) (Minted, error) {
	var expires *time.Time
	switch {
	case in.TTL != "" && in.Eternal:
		return Minted{}, apperr.Invalid("ttl", "ttl and eternal are mutually exclusive")
	case in.TTL != "":
		d, err := ParseTTL(in.TTL)
		if err != nil {
			return Minted{}, apperr.Invalid("ttl", "ttl must be a positive lifetime such as 30m, 24h or 90d")
		}
		t := s.now().Add(d)
		expires = &t
	case !in.Eternal:
		t := s.now().Add(DefaultTokenTTL)
		expires = &t
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Minted{}, apperr.Internal(err)
	}
	_, hash, raw, err := auth.NewAPITokenSecret(id)
	if err != nil {
		return Minted{}, apperr.Internal(err)
	}
	var tok dbq.ApiToken
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		acct, err := q.ServiceAccountGet(ctx, accountID)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		if acct.DisabledAt != nil {
			return apperr.Conflict("The service account is disabled; enable a new one to mint tokens.")
		}
		role := in.Role
		if role == "" {
			role = acct.Role
		}
		if err := auth.CheckGrantable(ctx, q, actor, "role", role); err != nil {
			return err
		}
		accountPerms, err := auth.RolePermissions(ctx, q, acct.Role)
		if err != nil {
			return err
		}
		tokenPerms, err := auth.RolePermissions(ctx, q, role)
		if err != nil {
			return err
		}
		if missing := authz.Missing(authz.NewPermissionSet(accountPerms...), tokenPerms); len(missing) > 0 {
			return apperr.Invalid("role", fmt.Sprintf("role %q exceeds the account's role %q (it adds %v)", role, acct.Role, missing))
		}
		tok, err = q.APITokenInsert(ctx, dbq.APITokenInsertParams{
			ID: id, ServiceAccountID: accountID, Name: in.Name, SecretHash: hash, Role: role,
			CreatedBy: actor.Actor().String(), ExpiresAt: expires,
		})
		if err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionTokenCreated, "api_token", id.String(),
			map[string]any{"service_account_id": accountID.String(), "name": in.Name, "role": role, "expires_at": expires}))
	})
	if err != nil {
		return Minted{}, err
	}
	return Minted{Raw: raw, Token: tok}, nil
}

// RevokeToken revokes a token. Guarded by service_account:write. Errors: resource.not_found.
func (s *Service) RevokeToken(ctx context.Context, actor *authz.Principal, accountID, tokenID uuid.UUID) error {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		n, err := q.APITokenRevoke(ctx, dbq.APITokenRevokeParams{ID: tokenID, ServiceAccountID: accountID})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return apperr.NotFound("The token does not exist or is already revoked.")
		}
		if err := q.AuthNotify(ctx, "token:"+tokenID.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionTokenRevoked, "api_token", tokenID.String(),
			map[string]any{"service_account_id": accountID.String()}))
	})
	if err == nil {
		s.inv.InvalidateToken(tokenID)
	}
	return err
}

// CreateSigningKey creates (or replaces) a live token's signing key for signed requests and
// returns it once; it is stored sealed, bound to the token. The change reaches every
// process on the next request. Guarded by service_account:write. Errors:
// resource.not_found (no such live token of the account).
func (s *Service) CreateSigningKey(ctx context.Context, actor *authz.Principal, accountID, tokenID uuid.UUID) ([]byte, dbq.ApiToken, error) {
	key, sealed, err := s.inv.NewSigningKey(tokenID)
	if err != nil {
		return nil, dbq.ApiToken{}, err
	}
	var tok dbq.ApiToken
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		var err error
		tok, err = q.APITokenSetSigningKey(ctx, dbq.APITokenSetSigningKeyParams{ID: tokenID, ServiceAccountID: accountID, Sealed: sealed})
		if err != nil {
			return pg.NotFoundAs(err, apperr.NotFound("The token does not exist or is revoked."))
		}
		if err := q.AuthNotify(ctx, "token:"+tokenID.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionTokenSigningKeyCreated, "api_token", tokenID.String(),
			map[string]any{"service_account_id": accountID.String()}))
	})
	if err != nil {
		return nil, dbq.ApiToken{}, err
	}
	s.inv.InvalidateToken(tokenID)
	return key, tok, nil
}
