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
	// lockFile, in the data dir, is held exclusively while a process decides to start,
	// attach to, restart or stop the server and does it.
	lockFile = "pg.lock"
	// leaseFile, in the data dir, is held shared by every process using the server.
	leaseFile = "pg.lease"
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
	// watchInterval is how often a Cluster checks that the postmaster is still there.
	watchInterval = 250 * time.Millisecond
	// restartBackoff bounds the wait between failed restarts of a vanished server.
	restartBackoff = 5 * time.Second
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

// Cluster is this process's use of the embedded PostgreSQL server: from Start, which
// starts the server or attaches to it, to Stop. In between it holds the lease that keeps
// the server up and restarts the server when it disappears.
type Cluster struct {
	home      string // the product's data dir, which holds the lock and lease files
	dir       string
	socketDir string
	port      int
	bins      pgproc.Binaries
	runAs     pgproc.User
	logger    *slog.Logger
	attached  bool
	lease     *os.File

	mu   sync.Mutex
	pid  int             // the postmaster in use
	proc *pgproc.Process // the postmaster, when this Cluster started it

	stopWatch context.CancelFunc
	watchDone chan struct{}
	stopOnce  sync.Once
	stopErr   error
}

// Start makes the cluster on first use (initdb) and starts postgres for it, or attaches to
// the server another process already runs for the same data dir (for example `serve`
// while the operator runs `openwatch create-admin`). It then creates the role and
// database `openwatch` if they are missing. Waiting for the server is bounded by 30 s,
// after which the error ends with the server log. Until Stop, the server stays up for
// this process whoever started it, and is started again if it disappears.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		return nil, errors.New("start embedded postgres: no data dir")
	}
	home, err := filepath.Abs(opts.DataDir)
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
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := lock(ctx, filepath.Join(home, lockFile))
	if err != nil {
		return nil, err
	}
	defer unlock()

	dir, err := clusterDir(home, runAs, logger)
	if err != nil {
		return nil, err
	}
	c := &Cluster{home: home, dir: dir, bins: bins, runAs: runAs, logger: logger}
	if c.lease, err = takeLease(filepath.Join(home, leaseFile)); err != nil {
		return nil, err
	}
	if err := c.run(ctx, true); err != nil {
		_ = c.lease.Close()
		return nil, err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = c.detach(stopCtx)
		return nil, err
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	c.stopWatch, c.watchDone = stopWatch, make(chan struct{})
	go c.watch(watchCtx)
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

// Attached reports whether Start found the server already running, started by another
// process (or another Cluster of this one).
func (c *Cluster) Attached() bool { return c.attached }

// Stop ends this process's use of the server. When no other process (or Cluster) uses it
// any more, it shuts the server down with a fast shutdown (clients are disconnected, a
// checkpoint is written) and waits for it to exit; if ctx ends first it shuts down
// immediately (crash recovery at the next start). Otherwise it leaves the server running
// for the others, whoever started it. Later calls return the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() {
		c.stopWatch()
		<-c.watchDone
		unlock, err := lock(ctx, filepath.Join(c.home, lockFile))
		if err != nil {
			// Without the lock the server cannot be stopped safely; giving up the lease
			// leaves it to the next process that stops.
			_ = c.lease.Close()
			c.stopErr = fmt.Errorf("stop embedded postgres: %w", err)
			return
		}
		defer unlock()
		c.stopErr = c.detach(ctx)
	})
	return c.stopErr
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// run makes sure the server is up, attaching to a running one or starting it; first is
// true in Start, when the socket location is still to be learnt. The caller holds the
// lock.
func (c *Cluster) run(ctx context.Context, first bool) error {
	pf, running, err := c.attach(ctx)
	if err != nil {
		return err
	}
	if running {
		if first {
			c.socketDir, c.port, c.attached = pf.SocketDir, pf.Port, true
		} else if pf.SocketDir != c.socketDir || pf.Port != c.port {
			return fmt.Errorf("embedded postgres (pid %d) now listens in %s port %d, not in %s port %d: restart OpenWatch",
				pf.PID, pf.SocketDir, pf.Port, c.socketDir, c.port)
		}
		c.mu.Lock()
		c.pid = pf.PID
		if c.proc != nil && c.proc.Cmd.Process.Pid != pf.PID {
			c.proc = nil
		}
		c.mu.Unlock()
		return nil
	}
	if first {
		socketDir, err := socketDirFor(c.dir, c.runAs, hashDir(c.home))
		if err != nil {
			return err
		}
		c.socketDir, c.port = socketDir, port
	}
	proc, err := c.start(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pid, c.proc = proc.Cmd.Process.Pid, proc
	c.mu.Unlock()
	return nil
}

// attach waits for a server already running for this cluster to accept connections and
// returns its pid file. It returns false when there is none (or it exited while being
// waited for), so the caller starts one.
func (c *Cluster) attach(ctx context.Context) (pgproc.PidFile, bool, error) {
	pf, err := pgproc.ReadPidFile(c.dataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return pf, false, nil
	}
	if err != nil {
		// A half-written pid file belongs to a postmaster that is starting up or died
		// mid-start; postgres itself checks it again when we start.
		c.logger.WarnContext(ctx, "ignoring unreadable postmaster.pid", slog.Any("error", err))
		return pf, false, nil
	}
	if !pgproc.IsPostgres(pf.PID) {
		if pgproc.Alive(pf.PID) {
			// The pid was reused by an unrelated process; postgres would refuse to start
			// while the file names a live pid.
			if err := os.Remove(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
				return pf, false, fmt.Errorf("remove stale postmaster.pid: %w", err)
			}
		}
		return pf, false, nil
	}
	// The postmaster may still be starting, or shutting down after something outside
	// OpenWatch stopped it: wait for whichever comes first.
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
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable",
		pgproc.QuoteDSNValue(pf.SocketDir), pf.Port, superuser)
	err = pgproc.WaitReady(ctx, dsn, exited, readyTimeout, c.logPath())
	if err == nil {
		c.logger.InfoContext(ctx, "attached to running embedded postgres",
			slog.String("dir", c.dir), slog.Int("pid", pf.PID))
		return pf, true, nil
	}
	select {
	case <-exited:
		if ctx.Err() == nil {
			return pf, false, nil
		}
	default:
	}
	return pf, false, fmt.Errorf("embedded postgres (pid %d) is running but does not accept connections: %w", pf.PID, err)
}

// start initialises the cluster if needed and starts postgres on c.socketDir. The server
// is not tied to this process: it keeps running for the other users when this one ends.
func (c *Cluster) start(ctx context.Context) (*pgproc.Process, error) {
	begin := time.Now()
	if err := c.initdb(ctx, c.bins, c.runAs); err != nil {
		return nil, err
	}
	if filepath.Dir(c.socketDir) == runtimeBase {
		if err := os.MkdirAll(runtimeBase, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", runtimeBase, err)
		}
	}
	if err := prepareDir(c.socketDir, c.runAs); err != nil {
		return nil, err
	}

	rotateLog(c.logPath())
	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open postgres log: %w", err)
	}
	defer logFile.Close() // postgres holds its own descriptor
	cmd := c.runAs.Command(c.bins, 0, "postgres",
		"-D", c.dataDir(),
		"-c", "listen_addresses=",
		"-c", fmt.Sprintf("port=%d", c.port),
		"-c", "unix_socket_directories="+c.socketDir,
		"-c", "unix_socket_permissions=0700",
		"-c", "fsync=on",
	)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := pgproc.Start(cmd)
	if err != nil {
		return nil, err
	}
	if err := pgproc.WaitReady(ctx, c.dsn(superuser, "postgres"), proc.Exited(), readyTimeout, c.logPath()); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = proc.Stop(stopCtx)
		return nil, fmt.Errorf("start embedded postgres in %s: %w", c.dir, err)
	}
	c.logger.InfoContext(ctx, "embedded postgres started",
		slog.String("dir", c.dir), slog.String("socket_dir", c.socketDir),
		slog.String("version", c.bins.Version), slog.String("run_as", c.runAs.Name),
		slog.Int("pid", cmd.Process.Pid), slog.Duration("took", time.Since(begin)))
	return proc, nil
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

// Running reports whether the server this process uses is running now (its postmaster is
// alive); false while the watcher is starting it again after it disappeared.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	pid := c.pid
	c.mu.Unlock()
	return pid > 0 && pgproc.IsPostgres(pid)
}

// Programs returns the directory of the PostgreSQL programs Start would run the managed
// cluster with (found the same way, binDir first) and their major version, so client
// programs such as pg_dump and pg_restore match the server.
func Programs(binDir string) (dir string, major int, err error) {
	bins, err := pgproc.FindBinaries(binDir)
	if errors.Is(err, pgproc.ErrNotFound) {
		return "", 0, errors.New(errNoBinaries)
	}
	if err != nil {
		return "", 0, err
	}
	return bins.Dir, bins.Major, nil
}

// LogPath returns the cluster's server log file.
func (c *Cluster) LogPath() string { return c.logPath() }
