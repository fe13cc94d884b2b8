package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5/pgxpool"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/httpserver"
	"github.com/openwatch/openwatch/internal/idempotency"
	"github.com/openwatch/openwatch/internal/license"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/role"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/serviceaccount"
	"github.com/openwatch/openwatch/internal/system"
	"github.com/openwatch/openwatch/internal/user"
)

// Deps are what the application is assembled from.
type Deps struct {
	Config     config.Config
	Logger     *slog.Logger
	Pool       *pgxpool.Pool
	Doc        *openapi3.T
	Operations authz.Operations
	// Assets is the built web app; AssetsBuilt says whether it is a real build.
	Assets      fs.FS
	AssetsBuilt bool
	// Password overrides the Argon2id cost (tests use a cheap one).
	Password *auth.PasswordParams
	// TuneAuth, when set, adjusts the authentication settings (tests loosen the sign-in
	// rate limit).
	TuneAuth func(*auth.Config)
	NowFunc  func() time.Time
}

// App is the assembled application.
type App struct {
	Config  config.Config
	Logger  *slog.Logger
	Pool    *pgxpool.Pool
	Auth    *auth.Service
	Users   *user.Service
	Idem    *idempotency.Store
	HTTP    *httpserver.Server
	License *license.Manager
	Audit   *audit.Writer
	Hosts   *host.Service
}

// The domains' handler types, aliased so they can be embedded side by side.
type (
	systemHandlers  = system.Handlers
	authHandlers    = auth.Handlers
	userHandlers    = user.Handlers
	roleHandlers    = role.Handlers
	licenseHandlers = license.Handlers
	saHandlers      = serviceaccount.Handlers
	auditHandlers   = audit.Handlers
	hostHandlers    = host.Handlers
	credHandlers    = credential.Handlers
)

// server is the one strict server: each domain's handlers, embedded. A missing operation
// is a compile error.
type server struct {
	*systemHandlers
	*authHandlers
	*userHandlers
	*roleHandlers
	*licenseHandlers
	*saHandlers
	*auditHandlers
	*hostHandlers
	*credHandlers
}

var _ api.StrictServerInterface = (*server)(nil)

// OpenAuditTrail loads the secrets keyring and the audit chain's MAC key (creating both on
// first start) and returns the audit writer.
func OpenAuditTrail(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, now func() time.Time) (*audit.Writer, *seal.Keyring, error) {
	keyring, err := seal.LoadOrCreate(cfg.SecretsKeyPath())
	if err != nil {
		return nil, nil, err
	}
	key, err := audit.LoadOrCreateKey(ctx, pool, keyring)
	if err != nil {
		return nil, nil, fmt.Errorf("load audit key: %w", err)
	}
	return audit.NewWriter(pool, key, now), keyring, nil
}

// New assembles the services and the HTTP server.
func New(ctx context.Context, d Deps) (*App, error) {
	now := d.NowFunc
	if now == nil {
		now = time.Now
	}
	password := auth.DefaultPasswordParams
	if d.Password != nil {
		password = *d.Password
	}
	key, err := auth.LoadOrCreateSigningKey(d.Config.SigningKeyPath())
	if err != nil {
		return nil, err
	}
	signer := auth.NewTokenSigner(key, d.Config.Auth.AccessTokenTTL.Duration, now)
	authCfg := auth.Config{
		AccessTokenTTL:  d.Config.Auth.AccessTokenTTL.Duration,
		RefreshTokenTTL: d.Config.Auth.RefreshTokenTTL.Duration,
		IdleTimeout:     d.Config.Auth.SessionIdleTimeout.Duration,
		LoginRate:       float64(d.Config.Auth.LoginRatePerMinute) / 60,
		LoginBurst:      d.Config.Auth.LoginBurst,
		Password:        password,
	}
	if d.TuneAuth != nil {
		d.TuneAuth(&authCfg)
	}
	aw, keyring, err := OpenAuditTrail(ctx, d.Config, d.Pool, now)
	if err != nil {
		return nil, err
	}
	authSvc, err := auth.NewService(d.Pool, signer, keyring, aw, authCfg, d.Logger, now)
	if err != nil {
		return nil, err
	}
	users := user.NewService(d.Pool, password, authSvc, aw)
	keys := license.DefaultTrustedKeys()
	if path := d.Config.License.TrustedKeysFile; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read license.trusted_keys_file: %w", err)
		}
		extra, err := license.ParseTrustedKeys(data)
		if err != nil {
			return nil, fmt.Errorf("license.trusted_keys_file %s: %w", path, err)
		}
		keys = append(keys, extra...)
	}
	verifier := license.NewVerifier(keys, 0, now)
	hosts := host.NewService(d.Pool, aw)
	lic := license.NewManager(verifier, d.Config.License.File, d.Logger)
	idem := idempotency.NewStore(d.Pool, now)
	handlers := &server{
		systemHandlers:  system.NewHandlers(system.NewHealth(d.Pool, now), buildinfo.Get()),
		authHandlers:    auth.NewHandlers(authSvc),
		userHandlers:    user.NewHandlers(users),
		roleHandlers:    role.NewHandlers(role.NewService(d.Pool, aw)),
		licenseHandlers: license.NewHandlers(lic, verifier, aw),
		auditHandlers:   audit.NewHandlers(aw),
		hostHandlers:    host.NewHandlers(hosts),
		credHandlers:    credential.NewHandlers(credential.NewService(d.Pool, keyring, aw, now)),
		saHandlers:      serviceaccount.NewHandlers(serviceaccount.NewService(d.Pool, authSvc, aw, now)),
	}
	httpSrv, err := httpserver.New(httpserver.Options{
		Logger: d.Logger, Doc: d.Doc, Operations: d.Operations, Handlers: handlers,
		Authenticator: authSvc, Idempotency: idem, License: lic, Denials: denialRecorder{aw: aw, log: d.Logger},
		BodyLimit: d.Config.BodyLimitBytes(),
		Assets:    d.Assets, AssetsBuilt: d.AssetsBuilt, Now: now,
	})
	if err != nil {
		return nil, fmt.Errorf("build http server: %w", err)
	}
	return &App{Config: d.Config, Logger: d.Logger, Pool: d.Pool, Auth: authSvc, Users: users, Idem: idem, HTTP: httpSrv, License: lic, Audit: aw, Hosts: hosts}, nil
}

// denialRecorder writes authorization denials to the audit trail.
type denialRecorder struct {
	aw  *audit.Writer
	log *slog.Logger
}

func (r denialRecorder) RecordDenial(ctx context.Context, p *authz.Principal, operationID, permission string) {
	ev := audit.For(ctx, p, audit.ActionAuthzDenied, "operation", operationID, map[string]any{"required_permission": permission})
	if err := r.aw.AppendAlone(ctx, ev); err != nil {
		r.log.ErrorContext(ctx, "record authorization denial", slog.Any("error", err))
	}
}

// Handler returns the HTTP handler.
func (a *App) Handler() http.Handler { return a.HTTP.Echo() }

// RunBackground starts the application's background loops (the session invalidation
// listener and the idempotency sweeper), which run until ctx ends. The returned function
// waits for them to finish; call it before closing the pool.
func (a *App) RunBackground(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	listener := pg.NewListener(a.Pool, a.Logger)
	listener.Subscribe(auth.InvalidationChannel, a.Auth.Subscriber())
	listener.Subscribe(host.InventoryChannel, a.Hosts.Subscriber())
	wg.Go(func() { listener.Run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := a.Idem.Sweep(ctx); err != nil {
					a.Logger.WarnContext(ctx, "idempotency sweep failed", slog.Any("error", err))
				} else if n > 0 {
					a.Logger.InfoContext(ctx, "idempotency sweep", slog.Int64("expired", n))
				}
			}
		}
	})
	return wg.Wait
}
