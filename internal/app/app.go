package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"github.com/openwatch/openwatch/internal/change"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/activity"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/enroll"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/exception"
	"github.com/openwatch/openwatch/internal/health"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/hostkey"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/httpserver"
	"github.com/openwatch/openwatch/internal/idempotency"
	"github.com/openwatch/openwatch/internal/intel"
	"github.com/openwatch/openwatch/internal/license"
	"github.com/openwatch/openwatch/internal/liveness"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/netscan"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/oscal"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/report"
	"github.com/openwatch/openwatch/internal/retention"
	"github.com/openwatch/openwatch/internal/role"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/serviceaccount"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sso"
	"github.com/openwatch/openwatch/internal/support"
	"github.com/openwatch/openwatch/internal/system"
	"github.com/openwatch/openwatch/internal/tlscert"
	"github.com/openwatch/openwatch/internal/user"
	"github.com/openwatch/openwatch/internal/vuln"
	"github.com/openwatch/openwatch/internal/window"
	"github.com/openwatch/openwatch/internal/worker"
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
	// NoCertificateDelivery turns off installing issued host certificates and the KRL on
	// hosts (writing /etc/ssh and reloading sshd there): tests whose SSH targets do not
	// overlay /etc and /run set it.
	NoCertificateDelivery bool
	// Liveness tunes the poller; a zero Tick is worker.liveness_tick (tests shorten the
	// tick and the interval unit so the real poller runs in seconds).
	Liveness liveness.Options
	// Notify tunes notification delivery (tests shorten timeouts and attempts).
	Notify notify.Options
	// ReportMaxAuditEvents, when set, replaces report.MaxAuditEvents: how many events an
	// audit report may hold (tests lower it).
	ReportMaxAuditEvents int
	// EventHeartbeat, when set, replaces events.Heartbeat: how often an idle event stream
	// sends a comment line and re-checks its caller's credential.
	EventHeartbeat time.Duration
	// DialFunc, when set, opens the SSH and probe connections that ssh.allowed_networks lets
	// through (tests record the addresses dialled).
	DialFunc sshx.DialFunc
	// ChangePlanners, when set, replace the planners of change jobs by kind (tests plan
	// their own actions); ChangeHealth replaces the source of their health checks.
	ChangePlanners map[string]change.Planner
	ChangeHealth   change.HealthSource
	// ChangeVulnExcepted tells which hosts a vulnerability exception covers, for patch jobs
	// from an advisory (nil: the vulnerability exceptions in force, vuln.Service.ExceptedHosts).
	ChangeVulnExcepted change.VulnExceptedFunc
	// ChangeWindowRecheck, when set, is how long a host waiting for a maintenance window
	// sleeps before it looks again (tests shorten it).
	ChangeWindowRecheck time.Duration
	// Metrics is the process's metrics registry (nil: New makes one); ManagedDatabaseRunning,
	// set when the database is the managed local cluster, says whether its server runs.
	Metrics                *metrics.Metrics
	ManagedDatabaseRunning func() bool
	// Logs, when set, holds the process's recent log lines for the support bundle;
	// MetricsGatherer, when set, gives its metrics snapshot (without one the bundle says
	// so). RetentionBatch, when set, is how many rows one retention delete removes.
	Logs            support.LogSource
	MetricsGatherer prometheus.Gatherer
	RetentionBatch  int
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
	// Jobs inserts background jobs (River); Workers is its bundle and JobRegistry what
	// domains registered (see internal/worker's doc and jobs.go).
	Jobs        *river.Client[pgx.Tx]
	Workers     *river.Workers
	JobRegistry *worker.Registry
	// Events fans committed events out to this process's SSE streams.
	Events *events.Broker
	// SSH connects to inventory hosts (credential resolution, host key trust on first use,
	// learned privilege mode).
	SSH *hostssh.Connector
	// SSHCA is the SSH certificate authority (user and host CAs, host certificates).
	SSHCA *sshca.Service
	// SSO signs people in through OpenID Connect providers.
	SSO *sso.Service
	// Enroll is self-enrollment (tokens, the script, the request queue).
	Enroll *enroll.Service
	// Intel runs discovery and intelligence collection.
	Intel *intel.Service
	// Vuln imports OSV feeds and keeps vulnerability exposure matched.
	Vuln  *vuln.Service
	Scans *netscan.Service
	// Compliance requests, runs and stores compliance scans; Rules is its rule catalog.
	Compliance *scan.Service
	Rules      *scan.Catalog
	// Liveness probes hosts and keeps their monitoring state.
	Liveness *liveness.Service
	// Notify manages notification channels; alerts queue notices with Notify.EnqueueTx.
	Notify *notify.Service
	// Dispatch turns committed alert transitions into deliveries and feed items; it runs
	// where jobs are worked.
	Dispatch *notify.Dispatcher
	// HealthChecks stores health checks; the change machinery runs them (health.Command,
	// health.Evaluate) before and after changing a host.
	HealthChecks *health.Service
	// Reports generates, signs and exports reports and runs their schedules.
	Reports *report.Service
	// Dialer opens every SSH connection and probe, only to ssh.allowed_networks; its
	// Blocked count says how many were refused.
	Dialer *sshx.Dialer
	// Metrics is what the metrics listener serves (ServeMetrics); Readiness backs GET /ready.
	Metrics   *metrics.Metrics
	Readiness *system.Readiness
	// monitor holds where ServeMetrics listens, once it does.
	monitor *monitor
	// Retention applies the retention policy (periodic job retention_apply); Support
	// builds support bundles.
	Retention *retention.Service
	Support   *support.Service
}

// The domains' handler types, aliased so they can be embedded side by side.
type (
	systemHandlers    = system.Handlers
	authHandlers      = auth.Handlers
	userHandlers      = user.Handlers
	roleHandlers      = role.Handlers
	licenseHandlers   = license.Handlers
	saHandlers        = serviceaccount.Handlers
	auditHandlers     = audit.Handlers
	hostHandlers      = host.Handlers
	credHandlers      = credential.Handlers
	livenessHandlers  = liveness.Handlers
	intelHandlers     = intel.Handlers
	activityHandlers  = activity.Handlers
	netscanHandlers   = netscan.Handlers
	scanHandlers      = scan.Handlers
	eventsHandlers    = events.Handlers
	hostkeyHandlers   = hostkey.Handlers
	alertHandlers     = alert.Handlers
	notifyHandlers    = notify.Handlers
	exceptionHandlers = exception.Handlers
	healthHandlers    = health.Handlers
	windowHandlers    = window.Handlers
	changeHandlers    = change.Handlers
	sshcaHandlers     = sshca.Handlers
	ssoHandlers       = sso.Handlers
	enrollHandlers    = enroll.Handlers
	reportHandlers    = report.Handlers
	oscalHandlers     = oscal.Handlers
	vulnHandlers      = vuln.Handlers
	supportHandlers   = support.Handlers
	retentionHandlers = retention.Handlers
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
	*livenessHandlers
	*intelHandlers
	*activityHandlers
	*netscanHandlers
	*scanHandlers
	*eventsHandlers
	*hostkeyHandlers
	*alertHandlers
	*notifyHandlers
	*exceptionHandlers
	*healthHandlers
	*windowHandlers
	*changeHandlers
	*sshcaHandlers
	*ssoHandlers
	*enrollHandlers
	*reportHandlers
	*oscalHandlers
	*vulnHandlers
	*supportHandlers
	*retentionHandlers
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
	if d.Metrics == nil {
		d.Metrics = metrics.New(buildinfo.Get())
	}
	// Background jobs: build the client before the services that enqueue, then let each
	// domain add its workers and periodic jobs (jobs.AddPeriodic(svc.RegisterJobs(jobs.Workers)...)).
	jobs, err := newJobs(d)
	if err != nil {
		return nil, err
	}
	authSvc, err := auth.NewService(d.Pool, signer, keyring, aw, authCfg, d.Logger, now)
	if err != nil {
		return nil, err
	}
	jobs.AddPeriodic(authSvc.RegisterJobs(jobs.Workers)...)
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
	// One dialer for every SSH connection and probe, so ssh.allowed_networks holds everywhere.
	dialer := sshx.NewDialer(d.Config.SSH.AllowedNetworks, d.DialFunc)
	dialer.SetObserver(d.Metrics)
	scans := netscan.NewService(d.Pool, aw, jobs.Client, hosts, netscan.Options{Logger: d.Logger, Banner: dialer.Banner})
	jobs.AddPeriodic(scans.RegisterJobs(jobs.Workers)...)
	creds := credential.NewService(d.Pool, keyring, aw, now)
	sshCA := sshca.NewService(d.Pool, keyring, aw, now)
	jobs.AddPeriodic(sshCA.RegisterJobs(jobs.Workers)...)
	sshConn := hostssh.NewConnector(d.Pool, creds, aw, hostssh.Options{Dialer: dialer, Logger: d.Logger, CA: sshCA, Now: now})
	// Issued certificates and the KRL are installed on hosts verified by their pinned key.
	sshCA.RegisterDelivery(jobs.Workers)
	if !d.NoCertificateDelivery {
		sshCA.EnableDelivery(sshca.Delivery{Jobs: jobs.Client, Connect: func(ctx context.Context, id uuid.UUID) (sshca.HostSession, error) {
			return sshConn.ConnectPinned(ctx, id)
		}})
	}
	// Vulnerability exposure follows each host's stored inventory as intelligence writes it.
	vulns := vuln.NewService(d.Pool, aw, vuln.Options{Logger: d.Logger, Now: now})
	intelSvc := intel.NewService(d.Pool, aw, hosts, sshConn, jobs.Client, intel.Options{Logger: d.Logger, Now: now,
		InventoryChanged: vulns.HostInventoryChangedTx})
	jobs.AddPeriodic(intelSvc.RegisterJobs(jobs.Workers)...)
	// The rule corpus is parsed on first use (or when Warm runs after start-up).
	rules := scan.LoadCatalog(rule.Embedded)
	// The configuration file's [alerts] thresholds are the defaults of the runtime ones.
	al := d.Config.Alerts
	alertDefaults := alert.Config{ScoreDropPoints: al.ScoreDropPoints, ScoreFloorPercent: al.ScoreFloorPercent,
		FleetScoreDropPoints: al.FleetScoreDropPoints, FleetScoreFloorPercent: al.FleetScoreFloorPercent,
		FleetScoreWindowHours: al.FleetScoreWindowHours, ScanFailures: al.ScanFailures}
	complianceScans := scan.NewService(d.Pool, aw, rules, sshConn, jobs.Client, scan.Options{Logger: d.Logger, Now: now,
		AlertDefaults: alertDefaults, Finished: d.Metrics.ScanFinished})
	jobs.AddPeriodic(complianceScans.RegisterJobs(jobs.Workers)...)
	liveOpts := d.Liveness
	if liveOpts.Tick == 0 {
		liveOpts.Tick = d.Config.Worker.LivenessTick.Duration
		liveOpts.Disabled = liveOpts.Tick == 0
	}
	if liveOpts.Now == nil {
		liveOpts.Now = now
	}
	liveOpts.Dialer, liveOpts.Logger = dialer, d.Logger
	live := liveness.NewService(d.Pool, aw, sshConn, jobStatus(d.Pool, jobs), liveOpts)
	jobs.AddQueue(liveness.Queue, live.Slots())
	jobs.AddPeriodic(live.RegisterJobs(jobs.Workers)...)
	// A license installed through the API (PUT /admin/license) goes to the configured file,
	// else to <data_dir>/license.jwt, which is read at start when no file is configured.
	lic := license.NewManager(verifier, d.Config.License.File, d.Logger,
		license.WithInstallPath(filepath.Join(d.Config.Server.DataDir, "license.jwt")))
	idem := idempotency.NewStore(d.Pool, now)
	broker := events.NewBroker(d.Pool, d.Logger)
	tickets := events.NewTickets(d.Pool, authSvc)
	alerts := alert.NewService(d.Pool, aw, alert.Options{Logger: d.Logger, Now: now,
		Chain: aw, ChainInterval: d.Config.Alerts.AuditVerifyInterval.Duration, Defaults: alertDefaults})
	jobs.AddPeriodic(alerts.RegisterJobs(jobs.Workers)...)
	jobs.AddPeriodic(events.NewRetention(d.Pool, d.Logger, events.DefaultRetention, now).RegisterJobs(jobs.Workers)...)
	notifyOpts := d.Notify
	notifyOpts.Logger = d.Logger
	if notifyOpts.Guard == nil {
		n := d.Config.Notifications
		notifyOpts.Guard = &notify.Guard{Allowed: n.AllowedNetworks, Denied: n.DeniedNetworks}
	}
	if notifyOpts.Now == nil {
		notifyOpts.Now = now
	}
	notifyOpts.Delivered = d.Metrics.Delivered
	notifications := notify.NewService(d.Pool, keyring, aw, jobs.Client, notifyOpts)
	jobs.AddQueue(notify.Queue, notifications.Slots())
	jobs.AddPeriodic(notifications.RegisterJobs(jobs.Workers)...)
	exceptions := exception.NewService(d.Pool, aw, complianceScans, exception.Options{Logger: d.Logger, Now: now,
		MaxLifetime:    time.Duration(d.Config.Compliance.ExceptionMaxDays) * 24 * time.Hour,
		ExpiringWindow: time.Duration(d.Config.Compliance.ExceptionExpiringDays) * 24 * time.Hour})
	jobs.AddPeriodic(exceptions.RegisterJobs(jobs.Workers)...)
	healthChecks := health.NewService(d.Pool, aw, sshConn, now)
	windows := window.NewService(d.Pool, aw, now)
	vulnExcepted := d.ChangeVulnExcepted
	if vulnExcepted == nil {
		vulnExcepted = vulns.ExceptedHosts
	}
	changes := change.NewService(change.Deps{Pool: d.Pool, Audit: aw, Jobs: jobs.Client, Windows: windows,
		SSH: change.ConnectFunc(func(ctx context.Context, id uuid.UUID) (change.Session, error) {
			c, err := sshConn.Connect(ctx, id)
			if err != nil {
				return nil, err
			}
			return c, nil
		}),
		Health: changeHealth(d, healthChecks), Planners: changePlanners(d, complianceScans), Rescan: complianceScans,
		VulnExcepted: vulnExcepted},
		change.Options{Logger: d.Logger, Now: now, WindowRecheck: d.ChangeWindowRecheck})
	changes.RegisterJobs(jobs.Workers)
	ssoSvc := sso.NewService(d.Pool, aw, keyring, authSvc, sso.Options{PublicURL: d.Config.Server.PublicURL,
		Password: password, Logger: d.Logger, Now: now})
	enrollments := enroll.NewService(d.Pool, aw, hosts, sshCA, intelSvc, complianceScans, enroll.Options{Logger: d.Logger, Now: now,
		PublicURL: d.Config.Server.PublicURL, CABundle: serverCABundle(d.Config),
		Credential: func(ctx context.Context, tx pgx.Tx, actor *authz.Principal, hostID uuid.UUID, hostname, username string) error {
			_, err := creds.CreateTx(ctx, tx, actor, credential.CreateInput{Scope: credential.ScopeHost, ScopeID: &hostID,
				Name: truncate("enrolled "+hostname, 100), Description: "Short-lived user certificates for the scan account the enrollment script created.",
				Username: username, AuthMethod: credential.AuthCertificate})
			return err
		}})
	// Signed reports: generated by River jobs, scheduled reports delivered through the
	// notification channels.
	reports := report.NewService(d.Pool, keyring, aw, jobs.Client, rules, report.Options{Logger: d.Logger, Now: now,
		Version: buildinfo.Get().Version, ChannelCheck: notifications.ChannelExists, Deliveries: notifications,
		MaxAuditEvents: d.ReportMaxAuditEvents,
		Deliver: func(ctx context.Context, channelID uuid.UUID, r report.Delivery) error {
			link := r.Link
			if base := d.Config.Server.PublicURL; base != "" {
				link = strings.TrimRight(base, "/") + link
			}
			return notifications.SendReport(ctx, channelID, notify.Report{ID: r.ReportID, Kind: r.Kind, Title: r.Title,
				Schedule: r.Schedule, Link: link, File: &notify.Attachment{Name: r.FileName, ContentType: r.ContentType, Data: r.File}})
		}})
	jobs.AddPeriodic(reports.RegisterJobs(jobs.Workers)...)
	notifications.SetReportRequeue(reports.RequeueDelivery)
	mon := &monitor{}
	readiness := system.NewReadiness(readinessChecks(d, jobs)...)
	registerCollectors(d, broker)
	// Retention of stored data (never the audit trail) and the support bundle.
	retentionSvc := retention.NewService(d.Pool, aw, retention.Options{Logger: d.Logger, Now: now, Batch: d.RetentionBatch,
		Evidence: complianceScans.DeleteEvidenceBefore,
		Jobs: func(ctx context.Context, tx pgx.Tx, cutoff time.Time, batch int) (int64, error) {
			return worker.DeleteFinalized(ctx, tx, cutoff, batch)
		}})
	jobs.AddPeriodic(retentionSvc.RegisterJobs(jobs.Workers)...)
	supportSvc := support.NewService(d.Pool, aw, support.Options{Config: d.Config, Logs: d.Logs, Metrics: d.MetricsGatherer,
		Logger: d.Logger, Now: now})
	handlers := &server{
		systemHandlers:    system.NewHandlers(system.NewHealth(d.Pool, now), buildinfo.Get(), readiness, statusSource(d, jobs, mon)),
		authHandlers:      auth.NewHandlers(authSvc),
		userHandlers:      user.NewHandlers(users),
		roleHandlers:      role.NewHandlers(role.NewService(d.Pool, aw), d.Operations.LicenseGates()),
		licenseHandlers:   license.NewHandlers(lic, verifier, aw),
		auditHandlers:     audit.NewHandlers(aw),
		hostHandlers:      host.NewHandlers(hosts, complianceScans),
		credHandlers:      credential.NewHandlers(creds),
		saHandlers:        serviceaccount.NewHandlers(serviceaccount.NewService(d.Pool, authSvc, aw, now)),
		livenessHandlers:  liveness.NewHandlers(live),
		intelHandlers:     intel.NewHandlers(intelSvc),
		activityHandlers:  activity.NewHandlers(activity.NewService(d.Pool)),
		netscanHandlers:   netscan.NewHandlers(scans),
		scanHandlers:      scan.NewHandlers(complianceScans),
		eventsHandlers:    events.NewHandlers(broker, tickets, events.HandlerOptions{Heartbeat: d.EventHeartbeat, Reloader: authSvc.Reload, Logger: d.Logger}),
		hostkeyHandlers:   hostkey.NewHandlers(hostkey.NewService(d.Pool, aw)),
		alertHandlers:     alert.NewHandlers(alerts),
		notifyHandlers:    notify.NewHandlers(notifications),
		exceptionHandlers: exception.NewHandlers(exceptions),
		healthHandlers:    health.NewHandlers(healthChecks),
		windowHandlers:    window.NewHandlers(windows),
		changeHandlers:    change.NewHandlers(changes),
		sshcaHandlers:     sshca.NewHandlers(sshCA),
		ssoHandlers:       sso.NewHandlers(ssoSvc),
		enrollHandlers:    enroll.NewHandlers(enrollments),
		reportHandlers:    report.NewHandlers(reports),
		oscalHandlers:     oscal.NewHandlers(oscal.NewService(complianceScans, rules, hosts, exceptions)),
		vulnHandlers:      vuln.NewHandlers(vulns),
		supportHandlers:   support.NewHandlers(supportSvc),
		retentionHandlers: retention.NewHandlers(retentionSvc),
	}
	httpSrv, err := httpserver.New(httpserver.Options{
		Logger: d.Logger, Doc: d.Doc, Operations: d.Operations, Handlers: handlers,
		Authenticator: authSvc, Tickets: tickets, Idempotency: idem, License: lic, Denials: denialRecorder{aw: aw, log: d.Logger},
		// Creating a host commits once: the host, its liveness row, its audit event and the
		// idempotency bookkeeping.
		OneCommit: []string{"createHost"},
		BodyLimit: d.Config.BodyLimitBytes(),
		Assets:    d.Assets, AssetsBuilt: d.AssetsBuilt, Now: now,
		PublicURL: d.Config.Server.PublicURL,
		Metrics:   d.Metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("build http server: %w", err)
	}
	return &App{Metrics: d.Metrics, Readiness: readiness, monitor: mon, SSHCA: sshCA, SSO: ssoSvc, Enroll: enrollments, Config: d.Config, Logger: d.Logger, Pool: d.Pool, Auth: authSvc, Users: users, Idem: idem, HTTP: httpSrv, License: lic, Audit: aw, Hosts: hosts, SSH: sshConn, Intel: intelSvc, Vuln: vulns, Scans: scans, Compliance: complianceScans, Rules: rules, Events: broker,
		Notify: notifications, Dispatch: notifications.NewDispatcher(notify.DispatcherOptions{}),
		Jobs: jobs.Client, Workers: jobs.Workers, JobRegistry: jobs, Liveness: live, Dialer: dialer,
		HealthChecks: healthChecks, Reports: reports, Retention: retentionSvc, Support: supportSvc}, nil
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
// listener, the recorder of coalesced sign-in refusals, the idempotency sweeper and, when
// this process works jobs, River), which run until ctx ends. The returned function
// waits for them to finish; call it before closing the pool.
func (a *App) RunBackground(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	listener := pg.NewListener(a.Pool, a.Logger)
	listener.Subscribe(auth.InvalidationChannel, a.Auth.Subscriber())
	listener.Subscribe(host.InventoryChannel, a.Hosts.Subscriber())
	listener.Subscribe(scan.ComplianceChannel, a.Compliance.Subscriber())
	// Host list pages carry each host's compliance summary: a stored scan clears them too.
	listener.Subscribe(scan.ComplianceChannel, a.Hosts.Subscriber())
	listener.Subscribe(events.Channel, a.Events)
	if a.JobRegistry.Working() {
		listener.Subscribe(notify.TransitionsChannel, a.Dispatch)
		wg.Go(func() { a.Dispatch.Run(ctx) })
		wg.Go(func() { a.Notify.RunAnnouncer(ctx) })
	}
	wg.Go(func() { listener.Run(ctx) })
	wg.Go(func() { a.Events.Run(ctx) })
	wg.Go(func() { a.Auth.RunRefusals(ctx) })
	a.runJobs(ctx, &wg)
	wg.Go(func() {
		every(ctx, 10*time.Minute, func() {
			if n, err := a.Idem.Sweep(ctx); err != nil {
				a.Logger.WarnContext(ctx, "idempotency sweep failed", slog.Any("error", err))
			} else if n > 0 {
				a.Logger.InfoContext(ctx, "idempotency sweep", slog.Int64("expired", n))
			}
		})
	})
	return wg.Wait
}

// every calls fn every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// serverCABundle returns what hosts must trust to verify this server (the enrollment
// script embeds it): the configured tls_ca, else the generated local CA when no
// certificate is configured, else nothing (a configured certificate is taken to be
// publicly trusted).
func serverCABundle(cfg config.Config) func() ([]byte, error) {
	switch {
	case cfg.Server.TLSCA != "":
		return func() ([]byte, error) { return os.ReadFile(cfg.Server.TLSCA) }
	case cfg.Server.TLSCert == "":
		path := filepath.Join(cfg.TLSDir(), tlscert.CACertFile)
		return func() ([]byte, error) {
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return data, err
		}
	default:
		return func() ([]byte, error) { return nil, nil }
	}
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
