package sso

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
	"github.com/openwatch/openwatch/internal/ratelimit"
	"github.com/openwatch/openwatch/internal/seal"
)

// Mask stands for a client secret in every answer.
const Mask = "********"

// DefaultGroupsClaim is the claim read for groups unless configured otherwise.
const DefaultGroupsClaim = "groups"

// DefaultScopes are requested unless configured otherwise.
var DefaultScopes = []string{"openid", "profile", "email"}

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Options tune the service; the zero value takes the defaults.
type Options struct {
	// PublicURL is the server's external URL; the redirect URI is built under it. When
	// empty, it is the scheme and host the browser used to reach the server.
	PublicURL string
	// HTTPClient talks to the identity providers (default: a client with a 15 s timeout).
	HTTPClient *http.Client
	// Password is the Argon2id cost of the unusable passwords of users created just in time.
	Password auth.PasswordParams
	// StartRate (per second) and StartBurst limit the sign-ins a client address may start
	// (each stores a login in flight); defaults 1 and 30.
	StartRate  float64
	StartBurst int
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service manages providers and runs sign-ins through them.
type Service struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	sealer Sealer
	aw     *audit.Writer
	auth   *auth.Service
	opts   Options

	starts *ratelimit.Limiter

	mu        sync.Mutex
	discovery map[string]cachedProvider
}

// NewService returns the single sign-on service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, sealer Sealer, authSvc *auth.Service, opts Options) *Service {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Password == (auth.PasswordParams{}) {
		opts.Password = auth.DefaultPasswordParams
	}
	if opts.StartRate <= 0 {
		opts.StartRate = 1
	}
	if opts.StartBurst <= 0 {
		opts.StartBurst = 30
	}
	return &Service{pool: pool, q: dbq.New(pool), sealer: sealer, aw: aw, auth: authSvc, opts: opts,
		starts: ratelimit.NewLimiter(opts.StartRate, opts.StartBurst, opts.Now), discovery: map[string]cachedProvider{}}
}

// Mapping gives the members of a group a role.
type Mapping struct {
	Group string `json:"group"`
	Role  string `json:"role"`
}

// Provider is a configured identity provider, without its secret.
type Provider struct {
	ID          uuid.UUID
	Name        string
	Issuer      string
	ClientID    string
	SecretSet   bool
	Scopes      []string
	GroupsClaim string
	Mappings    []Mapping
	DefaultRole *string
	Enabled     bool
	SSOOnly     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CallbackPath is the redirect URI of provider id, under the server's public URL.
func CallbackPath(id uuid.UUID) string { return "/api/v1/auth/sso/" + id.String() + "/callback" }

// LoginPath is where a browser starts a sign-in through provider id.
func LoginPath(id uuid.UUID) string { return "/api/v1/auth/sso/" + id.String() + "/login" }

func fromRow(r dbq.SsoProvider) (Provider, error) {
	var m []Mapping
	if err := json.Unmarshal(r.RoleMappings, &m); err != nil {
		return Provider{}, apperr.Internal(fmt.Errorf("decode role mappings of provider %s: %w", r.ID, err))
	}
	return Provider{
		ID: r.ID, Name: r.Name, Issuer: r.Issuer, ClientID: r.ClientID, SecretSet: r.ClientSecretSealed != nil,
		Scopes: r.Scopes, GroupsClaim: r.GroupsClaim, Mappings: m, DefaultRole: r.DefaultRole,
		Enabled: r.Enabled, SSOOnly: r.SsoOnly, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}, nil
}

// Input is a provider's settings. ClientSecret nil keeps the stored secret on update (none
// on create); "" removes it.
type Input struct {
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret *string
	Scopes       []string
	GroupsClaim  string
	Mappings     []Mapping
	DefaultRole  *string
	Enabled      bool
	SSOOnly      bool
}

// checkIssuer accepts an absolute https URL without query or fragment, or http on a
// loopback address.
func checkIssuer(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return apperr.Invalid(field, field+" must be an absolute URL without query or fragment, such as https://idp.example.com")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return apperr.Invalid(field, field+" must use https (http is allowed only on a loopback address)")
	default:
		return apperr.Invalid(field, field+" must be an https URL")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// normalize fills defaults and checks what the schema cannot; roles are checked against q.
func (s *Service) normalize(ctx context.Context, q *dbq.Queries, actor *authz.Principal, in *Input) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return apperr.Invalid("name", "name must not be blank")
	}
	if err := checkIssuer("issuer", in.Issuer); err != nil {
		return err
	}
	if strings.TrimSpace(in.ClientID) == "" {
		return apperr.Invalid("client_id", "client_id must not be blank")
	}
	if in.ClientSecret != nil && *in.ClientSecret == Mask {
		return apperr.Invalid("client_secret", "client_secret is the mask: send the new secret, or leave client_secret out to keep the stored one")
	}
	if len(in.Scopes) == 0 {
		in.Scopes = slices.Clone(DefaultScopes)
	}
	if !slices.Contains(in.Scopes, "openid") {
		return apperr.Invalid("scopes", "scopes must include openid")
	}
	for i, sc := range in.Scopes {
		if slices.Contains(in.Scopes[:i], sc) {
			return apperr.Invalid("scopes", fmt.Sprintf("scope %q is listed twice", sc))
		}
	}
	in.GroupsClaim = strings.TrimSpace(in.GroupsClaim)
	if in.GroupsClaim == "" {
		in.GroupsClaim = DefaultGroupsClaim
	}
	if in.Mappings == nil {
		in.Mappings = []Mapping{}
	}
	for i, m := range in.Mappings {
		if strings.TrimSpace(m.Group) == "" {
			return apperr.Invalid(fmt.Sprintf("role_mappings[%d].group", i), "a mapping's group must not be blank")
		}
		if err := auth.CheckGrantable(ctx, q, actor, fmt.Sprintf("role_mappings[%d].role", i), m.Role); err != nil {
			return err
		}
	}
	if in.DefaultRole != nil {
		if err := auth.CheckGrantable(ctx, q, actor, "default_role", *in.DefaultRole); err != nil {
			return err
		}
	}
	return nil
}

func errNotFound() error { return apperr.NotFound("The single sign-on provider does not exist.") }

// nameTaken translates err, naming the provider name when it is taken.
func nameTaken(err error, name string) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return apperr.Conflict(fmt.Sprintf("A single sign-on provider named %q already exists.", name)).WithDetail("field", "name")
	}
	return err
}

func auditDetail(in Input) map[string]any {
	return map[string]any{"name": in.Name, "issuer": in.Issuer, "client_id": in.ClientID, "enabled": in.Enabled,
		"sso_only": in.SSOOnly, "role_mappings": len(in.Mappings), "default_role": in.DefaultRole}
}

// Create adds a provider. Guarded by admin:sso_provider.
// Errors: validation_failed, authz.permission_denied (a mapped role above the actor),
// resource.conflict (name taken).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in Input) (Provider, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Provider{}, apperr.Internal(err)
	}
	var p Provider
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := s.normalize(ctx, q, actor, &in); err != nil {
			return err
		}
		sealed, err := s.sealSecret(id, in.ClientSecret)
		if err != nil {
			return err
		}
		mappings, err := json.Marshal(in.Mappings)
		if err != nil {
			return apperr.Internal(err)
		}
		row, err := q.SSOProviderInsert(ctx, dbq.SSOProviderInsertParams{
			ID: id, Name: in.Name, Issuer: in.Issuer, ClientID: in.ClientID, ClientSecretSealed: sealed,
			Scopes: in.Scopes, GroupsClaim: in.GroupsClaim, RoleMappings: mappings, DefaultRole: in.DefaultRole,
			Enabled: in.Enabled, SsoOnly: in.SSOOnly, CreatedBy: actor.Actor().String(),
		})
		if err != nil {
			return nameTaken(err, in.Name)
		}
		if p, err = fromRow(row); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSOProviderCreated, "sso_provider", id.String(), auditDetail(in)))
	})
	return p, err
}

// sealSecret seals a client secret bound to provider id; nil or "" is no secret.
func (s *Service) sealSecret(id uuid.UUID, secret *string) ([]byte, error) {
	if secret == nil || *secret == "" {
		return nil, nil
	}
	out, err := s.sealer.Seal([]byte(*secret), secretColumn.AD(id))
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("seal client secret: %w", err))
	}
	return out, nil
}

// Update replaces a provider's settings, keeping its secret when in.ClientSecret is nil.
// Guarded by admin:sso_provider.
// Errors: resource.not_found, validation_failed, authz.permission_denied, resource.conflict.
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in Input) (Provider, error) {
	var p Provider
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.SSOProviderLock(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		if err := s.normalize(ctx, q, actor, &in); err != nil {
			return err
		}
		sealed := cur.ClientSecretSealed
		if in.ClientSecret != nil {
			if sealed, err = s.sealSecret(id, in.ClientSecret); err != nil {
				return err
			}
		}
		mappings, err := json.Marshal(in.Mappings)
		if err != nil {
			return apperr.Internal(err)
		}
		row, err := q.SSOProviderUpdate(ctx, dbq.SSOProviderUpdateParams{
			ID: id, Name: in.Name, Issuer: in.Issuer, ClientID: in.ClientID, ClientSecretSealed: sealed,
			Scopes: in.Scopes, GroupsClaim: in.GroupsClaim, RoleMappings: mappings, DefaultRole: in.DefaultRole,
			Enabled: in.Enabled, SsoOnly: in.SSOOnly,
		})
		if err != nil {
			return nameTaken(err, in.Name)
		}
		if p, err = fromRow(row); err != nil {
			return err
		}
		detail := auditDetail(in)
		detail["secret_changed"] = in.ClientSecret != nil
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSOProviderUpdated, "sso_provider", id.String(), detail))
	})
	if err == nil {
		s.forget(p.Issuer)
	}
	return p, err
}

// Delete removes a provider; its users stay, unlinked. Guarded by admin:sso_provider.
// Errors: resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := dbq.New(tx).SSOProviderDelete(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errNotFound()
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSOProviderDeleted, "sso_provider", id.String(), nil))
	})
}

// Get returns a provider. Guarded by admin:sso_provider. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Provider, error) {
	row, err := s.q.SSOProviderGet(ctx, id)
	if err != nil {
		return Provider{}, pg.NotFoundAs(err, errNotFound())
	}
	return fromRow(row)
}

// List returns a page of providers in creation order. Guarded by admin:sso_provider.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[Provider], error) {
	rows, err := s.q.SSOProviderList(ctx, dbq.SSOProviderListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Provider]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(r dbq.SsoProvider) uuid.UUID { return r.ID })
	out := cursor.Page[Provider]{Next: cut.Next, Items: make([]Provider, 0, len(cut.Items))}
	for _, r := range cut.Items {
		p, err := fromRow(r)
		if err != nil {
			return cursor.Page[Provider]{}, err
		}
		out.Items = append(out.Items, p)
	}
	return out, nil
}

// Enabled is what the sign-in page shows of an enabled provider.
type Enabled struct {
	ID   uuid.UUID
	Name string
}

// ListEnabled returns the enabled providers by name. Anonymous.
func (s *Service) ListEnabled(ctx context.Context) ([]Enabled, error) {
	rows, err := s.q.SSOProviderListEnabled(ctx)
	if err != nil {
		return nil, pg.Translate(err)
	}
	out := make([]Enabled, len(rows))
	for i, r := range rows {
		out[i] = Enabled{ID: r.ID, Name: r.Name}
	}
	return out, nil
}
