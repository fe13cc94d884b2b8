// Command openwatch is the OpenWatch server: the HTTPS API and web UI (serve), the
// background worker (worker), the operator's tools (migrate, create-admin,
// check-config, rekey, backup, restore, version) and a scriptable API call (api).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/rekey"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/user"
	"github.com/openwatch/openwatch/internal/vuln"
	"github.com/openwatch/openwatch/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		getenv: os.Getenv, environ: os.Environ(), stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		spec: api.SpecJSON,
	})
	stop()
	os.Exit(code)
}

// env is everything run reads from the process, passed in so tests can drive it.
type env struct {
	getenv  func(string) string
	environ []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	spec    []byte
}

type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "Run the HTTPS API and web UI server (the default); it also works background jobs unless --with-worker=false.", "serve [--with-worker=false] [flags]", runServe},
		{"worker", "Run background jobs (no HTTP listener) until SIGTERM or SIGINT; needs database.dsn or the managed database of a running serve.", "worker [flags]", runWorker},
		{"migrate", "Apply database migrations (or show them with --status); --backup-before DIR writes a backup first.", "migrate [--status] [--backup-before DIR] [flags]", runMigrate},
		{"create-admin", "Create an admin user; the password comes from --password or the first line of standard input.", "create-admin --username NAME --email ADDR [--password PW] [flags]", runCreateAdmin},
		{"check-config", "Validate the configuration and print it, secrets redacted.", "check-config [flags]", runCheckConfig},
		{"version", "Print version information.", "version", runVersion},
		{"rekey", "Re-seal every stored secret (SSH credentials, TOTP seeds, the audit key) under a new key added to the secrets key file, in one transaction. Stop serve and workers first.", "rekey [flags]", runRekey},
		{"api", "Call the API from a script: print the answer's body, exit 0 on success and 1 with the error's message otherwise. Authenticates with a bearer token or signs the request with an API token's signing key (RFC 9421).", "api [--url URL] [--token T | --token-id ID --signing-key KEY] [--data JSON|@FILE|-] [--cacert FILE] METHOD PATH", runAPI},
		{"verify-report", "Verify a report export (JSON, CSV or PDF) offline: exit 0 when its signature covers every byte (and, with --key, its key is trusted), 1 otherwise.", "verify-report FILE [--key KEY]", runVerifyReport},
		{"feeds", "Import an offline OSV advisory feed (a directory of OSV JSON records, a zip of them or one JSON file) straight into the database and match exposure again, like the API upload; audited as the system.", "feeds import PATH [--source NAME] [flags]", runFeeds},
		{"backup", "Write a backup archive (0600): a consistent pg_dump of the database plus the key files (secrets key, token signing key, TLS, license) and a manifest with SHA-256 checksums. Works while serve runs.", "backup [--output DIR|FILE] [--gzip] [flags]", runBackup},
		{"restore", "Restore a backup archive after checking every checksum: the database (pg_restore, then migrations forward) and the key files, into the configured database or a fresh data dir's managed cluster.", "restore --input ARCHIVE [--data-dir DIR] [--force] [--verify-only] [flags]", runRestore},
		{"sysdump", "Write a support bundle (configuration with secrets redacted, version, migration status, database statistics, queue state, the managed database's log) straight from the database; audited as the system.", "sysdump [--output FILE|-] [flags]", runSysdump},
		{"dev", "Developer tools: 'dev seed --hosts N' fills the database with N realistic hosts (COPY; not audited), all at loopback addresses on a closed port; run serve with OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8 to keep every probe on this machine.", "dev seed --hosts N [--groups G] [flags]", runDev},
		// Client commands: call a running server (see docs/cli.md).
		{"login", "Sign in to a server and save the sign-in (mode 0600) in the user's configuration directory; the password is asked without echo, or read from standard input.", "login --url URL [--cacert FILE] [--username NAME] [--otp CODE]", runLogin},
		{"logout", "End the saved sign-in's session on the server and remove it.", "logout", runLogout},
		{"hosts", "List, add and show hosts.", "hosts list|add|show [flags]", runHosts},
		{"scan", "Scan a host (by name or id); with --wait, show its live progress and exit by its result.", "scan HOST [--wait] [--framework ID] [--rule ID]... [--fail-on-findings] [--output table|json|yaml]", runScan},
		{"alerts", "List alerts, newest first, with filters.", "alerts [--state S] [--severity S] [--host HOST] [--since T] [--limit N] [--output table|json|yaml]", runAlerts},
		{"audit", "Export the audit log as JSON or CSV to a file or standard output.", "audit export [--format json|csv] [--since T] [--until T] [--out FILE]", runAudit},
		{"report", "Generate a report; with --wait, wait for it and download its export.", "report generate --kind KIND [--scope fleet|group:ID|host:HOST] [--framework ID] [--wait [--format F] [--out FILE]]", runReport},
		{"completion", "Print the shell completion script for bash, zsh or fish.", "completion bash|zsh|fish", runCompletion},
	}
}

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	name := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			usage(e.stdout)
			return 0
		}
		if !strings.HasPrefix(args[0], "-") {
			name, args = args[0], args[1:]
		}
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(e.stderr, "openwatch %s: %v\n", name, err)
			return exitCode(err)
		}
	}
	fmt.Fprintf(e.stderr, "openwatch: unknown command %q\n\n", name)
	usage(e.stderr)
	return 2
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "OpenWatch: fleet compliance and management for Linux servers.")
	fmt.Fprintln(w, "\nUsage: openwatch <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'openwatch <command> --help' for the flags of a command.")
	fmt.Fprintf(w, "\nThe client commands (login to completion) share these exit codes.\n%s\n", exitCodesHelp)
}

// flags returns a flag set with --config and one flag per configuration key, and a
// function that loads the configuration once the flags are parsed.
func flags(c command, e env) (*flag.FlagSet, func() (config.Config, error)) {
	fs := flag.NewFlagSet("openwatch "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	configPath := fs.String("config", "", "configuration `file` (default /etc/openwatch/openwatch.toml)")
	secretsPath := fs.String("secrets-env", "", "environment `file` holding secrets such as OPENWATCH_DATABASE_DSN (default /etc/openwatch/secrets.env)")
	setFlags := config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: openwatch %s\n\nEvery configuration key can also be set in the TOML file or as OPENWATCH_<SECTION>_<KEY>; flags win over the environment, which wins over the file.\n\nFlags:\n", c.summary, c.usage)
		fs.PrintDefaults()
	}
	load := func() (config.Config, error) {
		explicit := false
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "config" {
				explicit = true
			}
		})
		return config.Load(config.Sources{
			ConfigPath: *configPath, ConfigExplicit: explicit, SecretsEnvPath: *secretsPath,
			Getenv: e.getenv, Environ: e.environ, Flags: setFlags(),
		})
	}
	return fs, load
}

func find(name string) command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	panic("unknown command " + name)
}

// setup parses flags, loads the configuration and builds the logger.
func setup(name string, e env, args []string, extra func(*flag.FlagSet)) (config.Config, *slog.Logger, error) {
	fs, load := flags(find(name), e)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "openwatch %s: unexpected argument %q\n", name, fs.Arg(0))
		return config.Config{}, nil, errUsage
	}
	cfg, err := load()
	if err != nil {
		return config.Config{}, nil, err
	}
	log, err := logging.New(e.stderr, cfg.Logging.Level, cfg.Logging.Format)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, log, nil
}

func runServe(ctx context.Context, e env, args []string) error {
	// A busy server logs a line per request: batch the writes (flushed every 100 ms and
	// on exit) instead of paying a system call per line.
	out := logging.NewBufferedWriter(e.stderr, 100*time.Millisecond)
	defer out.Close()
	// The last log lines are kept in memory for the support bundle.
	ring := logging.NewRing(logging.DefaultRingSize)
	var withWorker optionalBool
	cfg, log, err := setup("serve", env{getenv: e.getenv, environ: e.environ, stdin: e.stdin, stdout: e.stdout, stderr: ring.Tee(out), spec: e.spec}, args, func(fs *flag.FlagSet) {
		fs.Var(&withWorker, "with-worker", "also work background jobs in this process (default true; same as --worker-with-worker)")
	})
	if err != nil {
		return err
	}
	if withWorker.set {
		cfg.Worker.WithWorker = withWorker.value
	}
	assets, built := web.Assets()
	return app.Serve(ctx, cfg, app.ServeOptions{Logger: log, Spec: e.spec, Assets: assets, AssetsBuilt: built, Stdout: e.stdout, Logs: ring})
}

func runWorker(ctx context.Context, e env, args []string) error {
	cfg, log, err := setup("worker", e, args, nil)
	if err != nil {
		return err
	}
	return app.RunWorker(ctx, cfg, app.WorkerOptions{Logger: log, Spec: e.spec})
}

// optionalBool is a boolean flag that remembers whether it was given, so an unset flag
// leaves the configuration's value alone.
type optionalBool struct {
	value, set bool
}

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return "true"
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	b.value, b.set = v, true
	return nil
}

// IsBoolFlag lets --with-worker stand alone for true.
func (b *optionalBool) IsBoolFlag() bool { return true }

func runMigrate(ctx context.Context, e env, args []string) error {
	var status bool
	var backupBefore string
	cfg, log, err := setup("migrate", e, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&status, "status", false, "show applied and pending migrations instead of applying them")
		fs.StringVar(&backupBefore, "backup-before", "", "first write a backup (as 'openwatch backup --output') into this `directory` or file, unless the database has no schema yet; a failed backup stops the migration")
	})
	if err != nil {
		return err
	}
	db, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if status {
		return pg.MigrationStatus(ctx, db.Pool, e.stdout)
	}
	if backupBefore != "" {
		if err := backupBeforeMigrate(ctx, e, cfg, db, backupBefore); err != nil {
			return err
		}
	}
	if err := pg.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func runCreateAdmin(ctx context.Context, e env, args []string) error {
	var username, email, password string
	cfg, log, err := setup("create-admin", e, args, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "user `name` (required)")
		fs.StringVar(&email, "email", "", "email `address` (required)")
		fs.StringVar(&password, "password", "", "the `password`; when omitted, read from the first line of standard input")
	})
	if err != nil {
		return err
	}
	if username == "" || email == "" {
		fmt.Fprintln(e.stderr, "openwatch create-admin: --username and --email are required")
		return errUsage
	}
	if password == "" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("no password given: pass --password or write it to standard input")
		}
	}
	db, aw, err := openAudited(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	u, err := user.NewService(db.Pool, auth.DefaultPasswordParams, nil, aw).Create(ctx, nil, user.CreateInput{
		Username: username, Email: email, Password: password, Role: authz.RoleAdmin,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created admin %s (%s)\n", u.Username, u.ID)
	return nil
}

func runCheckConfig(_ context.Context, e env, args []string) error {
	cfg, _, err := setup("check-config", e, args, nil)
	if err != nil {
		return err
	}
	if _, _, err := app.LoadSpec(e.spec); err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
	fmt.Fprintln(e.stdout, "# configuration is valid; resolved values (secrets redacted):")
	return cfg.WriteTOML(e.stdout)
}

func runRekey(ctx context.Context, e env, args []string) error {
	cfg, log, err := setup("rekey", e, args, nil)
	if err != nil {
		return err
	}
	db, err := app.OpenMigratedDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	path := cfg.SecretsKeyPath()
	old, err := seal.LoadOrCreate(path)
	if err != nil {
		return err
	}
	next, err := seal.Rotate(path)
	if err != nil {
		return err
	}
	n, err := rekey.Run(ctx, db.Pool, old, next)
	if err != nil {
		return fmt.Errorf("re-seal secrets (the key file keeps both keys; run rekey again): %w", err)
	}
	fmt.Fprintf(e.stdout, "re-sealed %d secrets under key %s\n", n, next.ActiveKeyID())
	return nil
}

func runDev(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && args[0] == "ingest" {
		return runDevIngest(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "seed" {
		fmt.Fprintln(e.stderr, "usage: openwatch dev seed --hosts N [--groups G] [--rules R [--changed P]] [flags]\n       openwatch dev ingest [--scans N] [--workers W] [--changed P] [flags]")
		return errUsage
	}
	var hosts, groups, rules, changed int
	cfg, log, err := setup("dev", e, args[1:], func(fs *flag.FlagSet) {
		fs.IntVar(&hosts, "hosts", 1000, "number of hosts to add")
		fs.IntVar(&groups, "groups", -1, "number of groups to add (default: one per 100 hosts)")
		fs.IntVar(&rules, "rules", 0, "give every host without results a scan of this many rules of the corpus (0: none; more than the corpus has: all)")
		fs.IntVar(&changed, "changed", 5, "percent of those results that changed status since they were first seen")
	})
	if err != nil {
		return err
	}
	if hosts < 0 || hosts > 10_000_000 {
		return errors.New("--hosts must be between 0 and 10000000")
	}
	if groups < 0 {
		groups = max(hosts/100, 1)
	}
	if rules < 0 || changed < 0 || changed > 100 {
		return errors.New("--rules must be at least 0 and --changed between 0 and 100")
	}
	db, err := app.OpenMigratedDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	took, err := host.Seed(ctx, db.Pool, hosts, groups)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seeded %d hosts in %d groups in %s (loopback addresses, port %d)\n", hosts, groups, took.Round(time.Millisecond), host.SeedPort)
	if rules == 0 {
		return nil
	}
	corpus, err := rule.Embedded()
	if err != nil {
		return err
	}
	rep, err := scan.SeedCompliance(ctx, db.Pool, scan.NewCatalog(corpus), rules, changed)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seeded %d results of %d rules on %d hosts (%d changed since first seen) in %s\n",
		rep.States, rep.Rules, rep.Hosts, rep.Changes, rep.Took.Round(time.Millisecond))
	return nil
}

// runDevIngest measures how fast scans are stored: `openwatch dev ingest`.
func runDevIngest(ctx context.Context, e env, args []string) error {
	var scans, workers, changed int
	var cpuProfile string
	cfg, log, err := setup("dev", e, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the ingest to this file")
		fs.IntVar(&scans, "scans", 1000, "number of scans to store")
		fs.IntVar(&workers, "workers", 8, "scans stored at once")
		fs.IntVar(&changed, "changed", 5, "percent of each scan's results that changed")
	})
	if err != nil {
		return err
	}
	if scans <= 0 || workers <= 0 || changed < 0 || changed > 100 {
		return errors.New("--scans and --workers must be positive, --changed between 0 and 100")
	}
	db, err := app.OpenMigratedDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	corpus, err := rule.Embedded()
	if err != nil {
		return err
	}
	svc := scan.NewService(db.Pool, nil, scan.NewCatalog(corpus), nil, nil, scan.Options{})
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := svc.MeasureIngest(ctx, scans, workers, changed)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stored %d scans (%d results, %d changed) with %d workers in %s: %.1f scans/s\n",
		rep.Scans, rep.Results, rep.Changed, workers, rep.Took.Round(time.Millisecond), rep.PerSecond())
	return nil
}

func runFeeds(ctx context.Context, e env, args []string) error {
	if len(args) < 2 || args[0] != "import" || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(e.stderr, "usage: openwatch "+find("feeds").usage)
		return errUsage
	}
	path := args[1]
	var source string
	cfg, log, err := setup("feeds", e, args[2:], func(fs *flag.FlagSet) {
		fs.StringVar(&source, "source", "", "the feed's `name` in the import history (default: the file or directory name)")
	})
	if err != nil {
		return err
	}
	db, aw, err := openAudited(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	res, err := vuln.NewService(db.Pool, aw, vuln.Options{Logger: log}).ImportPath(ctx, nil, path, source)
	if err != nil {
		return err
	}
	i := res.Import
	fmt.Fprintf(e.stdout, "imported %s: %d added, %d updated, %d unchanged, %d withdrawn, %d rejected in %s\n",
		i.Source, i.Added, i.Updated, i.Unchanged, i.Withdrawn, i.Rejected, i.FinishedAt.Sub(i.StartedAt).Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "matched %d packages again: %d exposures opened, %d resolved\n", i.RematchedPackages, i.ExposuresOpened,
		i.ExposuresResolved)
	for _, r := range res.Rejections {
		fmt.Fprintf(e.stdout, "rejected %s %s: %s\n", r.File, r.ID, r.Reason)
	}
	return nil
}

func runVersion(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("openwatch version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := buildinfo.Get()
	fmt.Fprintf(e.stdout, "openwatch %s\nrule engine (kensa) %s\ncommit %s\nbuilt %s\n%s\n", b.Version, rule.EngineVersion(), b.Commit, b.BuildTime, b.Go)
	return nil
}

// openAudited opens the migrated database and its audit trail, for a command that changes
// data as the system; the caller closes the database.
func openAudited(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.Database, *audit.Writer, error) {
	db, err := app.OpenMigratedDatabase(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	aw, _, err := app.OpenAuditTrail(ctx, cfg, db.Pool, time.Now)
	if err != nil {
		db.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return db, aw, nil
}
