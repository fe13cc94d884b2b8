package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/tlscert"
	"github.com/openwatch/openwatch/internal/user"
)

// ServeOptions are the inputs of Serve besides the configuration.
type ServeOptions struct {
	Logger      *slog.Logger
	Spec        []byte
	Assets      fs.FS
	AssetsBuilt bool
	// Stdout receives the one-time initial admin password.
	Stdout io.Writer
	// Ready, when set, receives the listening address once the server accepts connections.
	Ready func(addr net.Addr)
	// Logs, when set, keeps the process's recent log lines for the support bundle.
	Logs *logging.Ring
}

// InitialAdminPasswordFile is where the generated first admin password is kept, under the
// data directory.
const InitialAdminPasswordFile = "initial-admin-password"

// Serve runs the HTTPS server until ctx ends, then shuts down gracefully and leaves the
// managed database, which stops when no other process uses it.
func Serve(ctx context.Context, cfg config.Config, o ServeOptions) error {
	log := o.Logger
	doc, ops, err := prepare(cfg, o.Spec)
	if err != nil {
		return err
	}
	tlsConf, err := serverTLS(cfg, log)
	if err != nil {
		return err
	}
	db, err := OpenMigratedDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	deps := Deps{Config: cfg, Logger: log, Pool: db.Pool, Doc: doc, Operations: ops, Assets: o.Assets, AssetsBuilt: o.AssetsBuilt,
		ManagedDatabaseRunning: db.running()}
	// The support bundle's metrics snapshot reads the registry the metrics listener serves.
	deps.Metrics = metrics.New(buildinfo.Get())
	deps.MetricsGatherer = deps.Metrics.Registry
	if o.Logs != nil {
		deps.Logs = o.Logs
	}
	a, err := New(ctx, deps)
	if err != nil {
		return err
	}
	if err := a.ensureInitialAdmin(ctx, o.Stdout); err != nil {
		return err
	}
	if err := a.StartJobs(ctx); err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(ctx)
	tuneGC(bg, log)
	waitBG := a.RunBackground(bg)
	go a.reloadOnHangup(bg)
	defer func() {
		stopBG()
		waitBG()
	}()

	defer a.ServeMetrics(cfg.Metrics.Listen)()
	if cfg.Server.ProfileListen != "" {
		stopProfiles, err := serveProfiles(ctx, cfg.Server.ProfileListen, log)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Listen, err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for requests to finish; event streams never do, so end them first.
	srv.RegisterOnShutdown(a.Events.Close)
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	// Start-up allocates heavily and briefly (spec parsing); hand that memory back so an
	// idle server stays small, once it serves (a collection would only delay it).
	go debug.FreeOSMemory()
	// The rule corpus (tens of milliseconds of parsing) is read a little later, so it does
	// not compete with the first requests a starting server answers; a scan or rules
	// request before then reads it itself.
	warm := time.AfterFunc(corpusWarmDelay, func() {
		if err := a.Rules.Warm(); err != nil {
			log.Error("the rule corpus did not load: scans fail until it is fixed", slog.Any("error", err))
		}
		debug.FreeOSMemory()
	})
	defer warm.Stop()
	log.Info("openwatch serving", slog.String("listen", ln.Addr().String()), slog.String("url", "https://"+displayAddr(ln.Addr())+"/"),
		slog.Bool("with_worker", a.JobRegistry.Working()))
	if o.Ready != nil {
		o.Ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// prepare parses the API document and creates the data directory, the start of Serve and
// RunWorker. It comes first, so an invalid document stops the process before anything
// else (a managed database, say) is set up.
func prepare(cfg config.Config, spec []byte) (*openapi3.T, authz.Operations, error) {
	doc, ops, err := LoadSpec(spec)
	if err != nil {
		return nil, nil, err
	}
	// 0711: the managed database's unprivileged user may pass through to <data_dir>/pg;
	// everything secret below it is 0600 or in 0700 directories.
	if err := os.MkdirAll(cfg.Server.DataDir, 0o711); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	return doc, ops, nil
}

// serverTLS returns the TLS configuration: the configured certificate pair, or a local CA
// and server certificate generated under <data_dir>/tls. Either is re-read when it changes.
func serverTLS(cfg config.Config, log *slog.Logger) (*tls.Config, error) {
	certFile, keyFile := cfg.Server.TLSCert, cfg.Server.TLSKey
	if certFile == "" {
		host, _ := os.Hostname()
		files, err := tlscert.Ensure(cfg.TLSDir(), host, cfg.CertificateNames())
		if err != nil {
			return nil, fmt.Errorf("prepare tls certificate: %w", err)
		}
		if files.Created {
			log.Info("created a local certificate authority and server certificate; clients should trust the CA",
				slog.String("ca", files.CACert), slog.String("certificate", files.ServerCert))
		}
		certFile, keyFile = files.ServerCert, files.ServerKey
	}
	r, err := tlscert.NewReloader(certFile, keyFile, log, time.Now)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate: %w", err)
	}
	return r.TLSConfig(), nil
}

// ensureInitialAdmin creates "admin" with a random password when there are no users,
// prints the password once and keeps it in <data_dir>/initial-admin-password (0600).
func (a *App) ensureInitialAdmin(ctx context.Context, stdout io.Writer) error {
	pw, err := a.Users.EnsureInitialAdmin(ctx)
	if errors.Is(err, user.ErrUsersExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create initial admin: %w", err)
	}
	path := filepath.Join(a.Config.Server.DataDir, InitialAdminPasswordFile)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "\nCreated the first user.\n  username: admin\n  password: %s\nThe password is also in %s. Change it after signing in.\n\n", pw, path)
	a.Logger.Info("created initial admin user", slog.String("username", "admin"), slog.String("password_file", path))
	return nil
}

// reloadOnHangup re-reads the license file whenever the process gets SIGHUP.
func (a *App) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := a.License.Reload(); err != nil {
				a.Logger.Error("reload license", slog.Any("error", err))
			} else {
				a.Logger.Info("license reloaded", slog.String("tier", string(a.License.Current().Tier)))
			}
		}
	}
}

// corpusWarmDelay is how long after it starts serving a server parses the rule corpus.
const corpusWarmDelay = 2 * time.Second

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
