// Package cluster runs OpenWatch's embedded default database: when no database DSN is
// configured, the binary keeps a PostgreSQL cluster of its own, made and started with the
// system's PostgreSQL server programs.
//
// Invariants:
//   - The server listens on a unix socket only (listen_addresses is empty), in a directory
//     of mode 0700 with unix_socket_permissions 0700, so only its owner and root can
//     connect; local trust authentication is then safe. TCP connections are rejected in
//     pg_hba.conf as well.
//   - As root, PostgreSQL runs as the `postgres` system user (or `nobody`), which owns the
//     cluster directory. When that user cannot reach <data_dir>/pg, the cluster lives in
//     /var/lib/openwatch-pg/<hash of the data dir> instead; <data_dir>/pg.location records
//     the choice so every later subcommand uses the same cluster.
//   - The process that starts postgres owns it: postgres gets SIGINT (fast shutdown) when
//     that process dies. Other processes for the same data dir attach to the running
//     server instead of starting a second one.
//   - fsync stays on: this is the product's real data.
package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

// Names and limits of the embedded cluster.
const (
	// LocationFile, in the data dir, records where the cluster lives: "pg" (relative to
	// the data dir) or an absolute path.
	LocationFile = "pg.location"
	// lockFile, in the data dir, serialises Start between processes.
	lockFile = "pg.lock"
	// FallbackBase holds clusters whose data dir the server user cannot reach (as root).
	FallbackBase = "/var/lib/openwatch-pg"
	// runtimeBase holds socket directories, as root, when the cluster path is too long.
	runtimeBase = "/run/openwatch-pg"
	// Role and database the product connects as.
	Role     = "openwatch"
	Database = "openwatch"
	// superuser is the bootstrap superuser initdb creates.
	superuser = "postgres"
	// port only names the socket file (.s.PGSQL.5432): nothing listens on TCP.
	port = 5432
	// maxSocketPath is the longest unix socket path Linux accepts (sun_path is 108 bytes
	// including the terminating NUL).
	maxSocketPath = 107
	socketName    = "/.s.PGSQL.5432"
	readyTimeout  = 30 * time.Second
	stopTimeout   = 30 * time.Second
	// maxLogSize is the size past which postgres.log is rotated (once) at start.
	maxLogSize = 10 << 20
)

// Settings for an appliance-sized server, written to postgresql.conf at initdb. An operator
// may change them with ALTER SYSTEM.
const tuning = `
# Added by OpenWatch for its embedded database.
shared_buffers = 128MB
max_connections = 100
`

// errNoBinaries is the message for a machine without PostgreSQL server programs.
const errNoBinaries = "PostgreSQL server binaries not found: install postgresql (apt-get install postgresql) or set [database] dsn"

// Options configure Start.
type Options struct {
	// DataDir is the product's data dir; the cluster goes in <DataDir>/pg when the server
	// user can reach it.
	DataDir string
	// Logger receives where the cluster lives and when it starts; nil discards.
	Logger *slog.Logger
	// BinDir holds initdb and postgres. When empty, initdb is looked up on $PATH
	// (symlinks resolved), then in the highest /usr/lib/postgresql/*/bin.
	BinDir string
}

// Cluster is a running embedded PostgreSQL server, started by this process or attached to.
type Cluster struct {
	dir       string
	socketDir string
	port      int
	proc      *pgproc.Process // nil when attached
	logger    *slog.Logger
	stopOnce  sync.Once
	stopErr   error
}

// Start makes the cluster on first use (initdb) and starts postgres for it, or attaches to
// the server another process already runs for the same data dir (for example `serve`
// while the operator runs `openwatch create-admin`). It then creates the role and
// database `openwatch` if they are missing. Waiting for the server is bounded by 30 s,
// after which the error ends with the server log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		return nil, errors.New("start embedded postgres: no data dir")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start embedded postgres: %w", err)
	}
	bins, err := pgproc.FindBinaries(opts.BinDir)
	if errors.Is(err, pgproc.ErrNotFound) {
		if opts.BinDir != "" {
			return nil, fmt.Errorf("%s (looked in %s)", errNoBinaries, opts.BinDir)
		}
		return nil, errors.New(errNoBinaries)
	}
	if err != nil {
		return nil, err
	}
	runAs, err := pgproc.ServerUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := lock(ctx, filepath.Join(dataDir, lockFile))
	if err != nil {
		return nil, err
	}
	defer unlock()

	dir, err := clusterDir(dataDir, runAs, logger)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, logger: logger}
	attached, err := c.attach(ctx)
	if err != nil {
		return nil, err
	}
	if !attached {
		if err := c.start(ctx, bins, runAs, dataDir); err != nil {
			return nil, err
		}
	}
	if err := c.ensureDatabase(ctx); err != nil {
		if !attached {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			defer cancel()
			_ = c.Stop(stopCtx)
		}
		return nil, err
	}
	return c, nil
}

// DSN returns the keyword/value connection string of the openwatch database over the
// unix socket, for example "host=/var/lib/openwatch-pg/1a2b3c4d5e6f/run port=5432
// user=openwatch dbname=openwatch sslmode=disable".
func (c *Cluster) DSN() string {
	return c.dsn(Role, Database)
}

func (c *Cluster) dsn(user, database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		pgproc.QuoteDSNValue(c.socketDir), c.port, user, database)
}

// Dir returns the directory the cluster lives in: the data directory is its data/
// subdirectory and the server log its postgres.log.
func (c *Cluster) Dir() string { return c.dir }

// Attached reports whether Start found the server already running (then Stop does
// nothing).
func (c *Cluster) Attached() bool { return c.proc == nil }

// Stop shuts the server down with a fast shutdown (clients are disconnected, a checkpoint
// is written) when this process started it, and waits for it to exit; if ctx ends first
// it shuts down immediately (crash recovery at the next start). It does nothing when the
// cluster was attached to, and on later calls.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.proc == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		c.stopErr = c.proc.Stop(ctx)
		if c.stopErr == nil {
			c.logger.InfoContext(ctx, "embedded postgres stopped", slog.String("dir", c.dir))
		}
	})
	return c.stopErr
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// attach connects to a server already running for this cluster. It returns false when
// there is none (or it exited while being waited for), so the caller starts one.
func (c *Cluster) attach(ctx context.Context) (bool, error) {
	pf, err := pgproc.ReadPidFile(c.dataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		// A half-written pid file belongs to a postmaster that is starting up or died
		// mid-start; postgres itself checks it again when we start.
		c.logger.WarnContext(ctx, "ignoring unreadable postmaster.pid", slog.Any("error", err))
		return false, nil
	}
	if !pgproc.IsPostgres(pf.PID) {
		if pgproc.Alive(pf.PID) {
			// The pid was reused by an unrelated process; postgres would refuse to start
			// while the file names a live pid.
			if err := os.Remove(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
				return false, fmt.Errorf("remove stale postmaster.pid: %w", err)
			}
		}
		return false, nil
	}
	c.socketDir, c.port = pf.SocketDir, pf.Port
	// The postmaster may still be starting, or shutting down after its owner died: wait
	// for whichever comes first.
	exited := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		defer close(exited)
		t := time.NewTicker(pgproc.PollInterval)
		defer t.Stop()
		for pgproc.IsPostgres(pf.PID) {
			select {
			case <-watchCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err = pgproc.WaitReady(ctx, c.dsn(superuser, "postgres"), exited, readyTimeout, c.logPath())
	if err == nil {
		c.logger.InfoContext(ctx, "attached to running embedded postgres",
			slog.String("dir", c.dir), slog.Int("pid", pf.PID))
		return true, nil
	}
	select {
	case <-exited:
		if ctx.Err() == nil {
			return false, nil
		}
	default:
	}
	return false, fmt.Errorf("embedded postgres (pid %d) is running but does not accept connections: %w", pf.PID, err)
}

// start initialises the cluster if needed and starts postgres.
func (c *Cluster) start(ctx context.Context, bins pgproc.Binaries, runAs pgproc.User, dataDir string) error {
	begin := time.Now()
	if err := c.initdb(ctx, bins, runAs); err != nil {
		return err
	}
	socketDir, err := socketDirFor(c.dir, runAs, hashDir(dataDir))
	if err != nil {
		return err
	}
	c.socketDir, c.port = socketDir, port
	if filepath.Dir(socketDir) == runtimeBase {
		if err := os.MkdirAll(runtimeBase, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", runtimeBase, err)
		}
	}
	if err := prepareDir(socketDir, runAs); err != nil {
		return err
	}

	rotateLog(c.logPath())
	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	defer logFile.Close() // postgres holds its own descriptor
	cmd := runAs.Command(bins, syscall.SIGINT, "postgres",
		"-D", c.dataDir(),
		"-c", "listen_addresses=",
		"-c", fmt.Sprintf("port=%d", port),
		"-c", "unix_socket_directories="+socketDir,
		"-c", "unix_socket_permissions=0700",
		"-c", "fsync=on",
	)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := pgproc.Start(cmd)
	if err != nil {
		return err
	}
	if err := pgproc.WaitReady(ctx, c.dsn(superuser, "postgres"), proc.Exited(), readyTimeout, c.logPath()); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = proc.Stop(stopCtx)
		return fmt.Errorf("start embedded postgres in %s: %w", c.dir, err)
	}
	c.proc = proc
	c.logger.InfoContext(ctx, "embedded postgres started",
		slog.String("dir", c.dir), slog.String("socket_dir", socketDir),
		slog.String("version", bins.Version), slog.String("run_as", runAs.Name),
		slog.Int("pid", cmd.Process.Pid), slog.Duration("took", time.Since(begin)))
	return nil
}

// initdb creates the data directory unless it exists. It initialises into data.init and
// renames that to data, so an interrupted initdb never leaves a half-made cluster behind.
func (c *Cluster) initdb(ctx context.Context, bins pgproc.Binaries, runAs pgproc.User) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	if _, err := os.Stat(c.dataDir()); err == nil {
		return fmt.Errorf("%s exists but holds no PostgreSQL cluster (no PG_VERSION): move it away to start afresh", c.dataDir())
	}
	tmp := c.dataDir() + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove interrupted initdb: %w", err)
	}
	start := time.Now()
	args := []string{"-D", tmp, "-U", superuser, "--auth-local=trust", "--auth-host=reject", "-E", "UTF8"}
	// Byte-order collation keeps sorting fast and stable; a UTF-8 ctype makes lower() and
	// upper() work beyond ASCII. Systems without the C.UTF-8 locale get plain C.
	err := runAs.Initdb(ctx, bins, c.dir, append(args, "--lc-collate=C", "--lc-ctype=C.UTF-8")...)
	if err != nil && ctx.Err() == nil {
		_ = os.RemoveAll(tmp)
		err = runAs.Initdb(ctx, bins, c.dir, append(args, "--locale=C")...)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("initialise embedded postgres in %s: %w", c.dir, err)
	}
	conf, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("tune embedded postgres: %w", err)
	}
	_, werr := conf.WriteString(tuning)
	if err := errors.Join(werr, conf.Close()); err != nil {
		return fmt.Errorf("tune embedded postgres: %w", err)
	}
	if err := os.Rename(tmp, c.dataDir()); err != nil {
		return fmt.Errorf("finish initdb: %w", err)
	}
	c.logger.InfoContext(ctx, "embedded postgres initialised",
		slog.String("dir", c.dir), slog.Duration("took", time.Since(start)))
	return nil
}

// ensureDatabase creates the openwatch role and database when they are missing.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.dsn(superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", Role).Scan(&exists); err != nil {
		return fmt.Errorf("look up role %s: %w", Role, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{Role}.Sanitize()+" LOGIN"); err != nil {
			return fmt.Errorf("create role %s: %w", Role, err)
		}
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", Database, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{Database}.Sanitize()+
			" OWNER "+pgx.Identifier{Role}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s: %w", Database, err)
		}
	}
	return nil
}

// clusterDir returns where the cluster of dataDir lives, choosing and recording it
// (LocationFile) on first use, and makes sure the directory exists and belongs to runAs.
func clusterDir(dataDir string, runAs pgproc.User, logger *slog.Logger) (string, error) {
	locPath := filepath.Join(dataDir, LocationFile)
	recorded, err := os.ReadFile(locPath)
	switch {
	case err == nil:
		dir := strings.TrimSpace(string(recorded))
		if dir == "" {
			return "", fmt.Errorf("%s is empty: remove it to choose the cluster location again", locPath)
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(dataDir, dir)
		}
		if err := prepareClusterDir(dir, runAs); err != nil {
			return "", err
		}
		return dir, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read cluster location: %w", err)
	}

	dir, record := filepath.Join(dataDir, "pg"), "pg"
	ok, blocker, err := runAs.CanTraverse(dataDir)
	if err != nil {
		return "", fmt.Errorf("check access to %s: %w", dataDir, err)
	}
	if !ok {
		dir = filepath.Join(FallbackBase, hashDir(dataDir))
		record = dir
		if err := os.MkdirAll(FallbackBase, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", FallbackBase, err)
		}
		logger.Info("embedded postgres cluster placed outside the data dir",
			slog.String("dir", dir),
			slog.String("reason", fmt.Sprintf("PostgreSQL runs as user %s, who cannot enter %s (no search permission on %s)",
				runAs.Name, dataDir, blocker)))
	}
	if err := prepareClusterDir(dir, runAs); err != nil {
		return "", err
	}
	if err := writeFileAtomic(locPath, []byte(record+"\n")); err != nil {
		return "", fmt.Errorf("record cluster location: %w", err)
	}
	return dir, nil
}

// prepareClusterDir creates dir for runAs (mode 0700), or checks that an existing one
// belongs to runAs, and that runAs can reach it.
func prepareClusterDir(dir string, runAs pgproc.User) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := prepareDir(dir, runAs); err != nil {
		return err
	}
	ok, blocker, err := runAs.CanTraverse(dir)
	if err != nil {
		return fmt.Errorf("check access to %s: %w", dir, err)
	}
	if !ok {
		return fmt.Errorf("user %s, who runs PostgreSQL, cannot reach %s: no search permission on %s", runAs.Name, dir, blocker)
	}
	return nil
}

// prepareDir makes dir (mode 0700, owned by runAs) if missing; an existing dir must be a
// real directory owned by runAs, and is set to mode 0700.
func prepareDir(dir string, runAs pgproc.User) error {
	if err := os.Mkdir(dir, 0o700); err == nil {
		return runAs.Chown(dir)
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != runAs.UID {
		return fmt.Errorf("%s belongs to uid %d, not to user %s who runs PostgreSQL", dir, st.Uid, runAs.Name)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict %s: %w", dir, err)
		}
	}
	return nil
}

// socketDirFor returns the directory for the server's unix socket: <cluster>/run when the
// socket path fits, else a short per-cluster directory under /run (root) or the temp dir.
func socketDirFor(clusterDir string, runAs pgproc.User, hash string) (string, error) {
	fits := func(d string) bool { return len(d)+len(socketName) <= maxSocketPath }
	if d := filepath.Join(clusterDir, "run"); fits(d) {
		return d, nil
	}
	if d := filepath.Join(runtimeBase, hash); os.Geteuid() == 0 && fits(d) {
		return d, nil
	}
	if d := filepath.Join(os.TempDir(), fmt.Sprintf("owpg-%d-%s", runAs.UID, hash)); fits(d) {
		return d, nil
	}
	return "", fmt.Errorf("no socket directory short enough for %s: set TMPDIR to a short path", clusterDir)
}

// hashDir names a data dir's fallback directories: the first 12 hex digits of the
// SHA-256 of its absolute path.
func hashDir(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return hex.EncodeToString(sum[:])[:12]
}

// rotateLog moves a large postgres.log to postgres.log.1, replacing an older one.
func rotateLog(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lock takes an exclusive flock on path, waiting (while ctx allows) for other processes
// or goroutines starting the same cluster, and returns its release.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t := time.NewTicker(pgproc.PollInterval)
	defer t.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}
