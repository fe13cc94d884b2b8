package pgtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

const (
	// tempPrefix names the server's temporary directory (os.MkdirTemp("", tempPrefix)).
	// It is short on purpose: a unix socket path must stay under 108 bytes.
	tempPrefix = "owpg"
	// ownerFile, in the temporary directory, holds the pid of the process that started
	// the server, so a later run can remove directories whose owner is gone.
	ownerFile    = "owner.pid"
	startTries   = 3
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// InstallHint is appended to errors caused by missing PostgreSQL server binaries.
const InstallHint = "install them with scripts/install-postgres.sh (or apt-get install postgresql), " +
	"or set OPENWATCH_TEST_DSN to a superuser DSN of an existing server"

// Server is a throwaway PostgreSQL server for tests: a fresh cluster in a temporary
// directory, listening on 127.0.0.1 on a free port, superuser `postgres` with trust
// authentication, and durability switched off (fsync, synchronous_commit and
// full_page_writes off) for speed. Any local user can connect to it as superuser while it
// runs, so it must never hold anything but test data.
type Server struct {
	dir      string
	port     int
	bins     pgproc.Binaries
	runAs    pgproc.User
	logger   *slog.Logger
	stopOnce sync.Once
	stopErr  error

	// mu guards proc, which Halt and Resume replace.
	mu   sync.Mutex
	proc *pgproc.Process
}

// StartServer initialises and starts a throwaway server (see Server). As root it runs
// PostgreSQL as the `postgres` user (or `nobody`), which initdb and postgres require. The
// server gets SIGQUIT when the calling process dies, so it never outlives it; Stop also
// removes its directory. It first removes, best effort, directories that earlier servers
// left behind when their process died without calling Stop. logger may be nil.
func StartServer(ctx context.Context, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bins, err := pgproc.FindBinaries("")
	if err != nil {
		if errors.Is(err, pgproc.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", err, InstallHint)
		}
		return nil, err
	}
	runAs, err := pgproc.ServerUser()
	if err != nil {
		return nil, err
	}
	sweepStale(logger)

	start := time.Now()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("create server directory: %w", err)
	}
	s := &Server{dir: dir, logger: logger, bins: bins, runAs: runAs}
	if err := s.start(ctx, bins, runAs); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	logger.InfoContext(ctx, "test postgres ready",
		slog.String("dir", dir), slog.Int("port", s.port),
		slog.String("version", bins.Version), slog.Duration("took", time.Since(start)))
	return s, nil
}

func (s *Server) start(ctx context.Context, bins pgproc.Binaries, runAs pgproc.User) error {
	owner := filepath.Join(s.dir, ownerFile)
	if err := os.WriteFile(owner, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", owner, err)
	}
	if err := runAs.Chown(s.dir); err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	if err := runAs.Initdb(ctx, bins, s.dir, "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return err
	}
	logPath := s.logPath()
	var errs []error
	for range startTries {
		port, err := freePort()
		if err != nil {
			return err
		}
		err = s.startOnce(ctx, bins, runAs, port, data, logPath)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("start test postgres: %w", errors.Join(errs...))
}

func (s *Server) startOnce(ctx context.Context, bins pgproc.Binaries, runAs pgproc.User, port int, data, logPath string) error {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := runAs.Command(bins, syscall.SIGQUIT, "postgres",
		"-D", data,
		"-p", strconv.Itoa(port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		// Every test package clones databases and opens pools at once.
		"-c", "max_connections=300",
	)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := pgproc.Start(cmd)
	if err != nil {
		return err
	}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	if err := pgproc.WaitReady(ctx, dsn, proc.Exited(), readyTimeout, logPath); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = proc.Stop(stopCtx)
		return err
	}
	s.mu.Lock()
	s.port, s.proc = port, proc
	s.mu.Unlock()
	return nil
}

func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// Halt shuts the server down as an operator's stop does (fast shutdown: open sessions are
// terminated, a checkpoint is written) and leaves its data in place, so Resume can start
// it again: tests use the pair to show that clients survive a database restart.
func (s *Server) Halt(ctx context.Context) error {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	return proc.Stop(ctx)
}

// Resume starts a server that Halt stopped again, on the same port and data directory,
// and waits until it accepts connections.
func (s *Server) Resume(ctx context.Context) error {
	return s.startOnce(ctx, s.bins, s.runAs, s.port, filepath.Join(s.dir, "data"), s.logPath())
}

// Log returns what the server has logged so far (for a failed test's output).
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// DSN returns the superuser URL of the server, for example
// postgres://postgres@127.0.0.1:41234/postgres?sslmode=disable.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Stop shuts the server down (fast shutdown, immediate after 10 s) and removes its
// directory. Calling it again does nothing.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		s.mu.Lock()
		proc := s.proc
		s.mu.Unlock()
		s.stopErr = errors.Join(proc.Stop(ctx), os.RemoveAll(s.dir))
	})
	return s.stopErr
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process may
// take it before postgres binds it; the caller retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sweepStale removes temporary server directories whose starting process and postgres
// are both gone: the once-per-test-binary server (see NewPool) ends with its test binary
// through Pdeathsig, but nothing is left to delete its files. Directories without an
// owner file, or that this user may not read, are left alone.
func sweepStale(logger *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || pgproc.Alive(owner) {
			continue
		}
		if pf, err := pgproc.ReadPidFile(filepath.Join(dir, "data")); err == nil && pgproc.IsPostgres(pf.PID) {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			logger.Debug("removed stale test postgres directory", slog.String("dir", dir))
		}
	}
}
