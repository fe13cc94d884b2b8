package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

// detach gives up this Cluster's lease and, when no one else holds one, shuts the server
// down. The caller holds the lock, so no process attaches between the decision and the
// shutdown.
func (c *Cluster) detach(ctx context.Context) error {
	_ = c.lease.Close()
	last, err := lastUser(filepath.Join(c.home, leaseFile))
	if err != nil {
		return err
	}
	if !last {
		c.logger.InfoContext(ctx, "detached from embedded postgres, which other processes still use",
			slog.String("dir", c.dir))
		return nil
	}
	return c.shutdown(ctx)
}

// shutdown stops the server running for this cluster, if any.
func (c *Cluster) shutdown(ctx context.Context) error {
	pf, err := pgproc.ReadPidFile(c.dataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop embedded postgres: %w", err)
	}
	if !pgproc.IsPostgres(pf.PID) {
		return nil
	}
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc != nil && proc.Cmd.Process.Pid == pf.PID {
		err = proc.Stop(ctx)
	} else {
		err = pgproc.StopPID(ctx, pf.PID)
	}
	if err != nil {
		return fmt.Errorf("stop embedded postgres: %w", err)
	}
	c.logger.InfoContext(ctx, "embedded postgres stopped", slog.String("dir", c.dir), slog.Int("pid", pf.PID))
	return nil
}

// watch restarts the server whenever it disappears (killed, crashed, stopped from
// outside), until ctx ends.
func (c *Cluster) watch(ctx context.Context) {
	defer close(c.watchDone)
	for {
		pid, ok := c.waitGone(ctx)
		if !ok {
			return
		}
		c.logger.WarnContext(ctx, "embedded postgres is gone: starting it again",
			slog.String("dir", c.dir), slog.Int("pid", pid))
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, restartBackoff) {
			err := c.restart(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			// Backends of a killed postmaster may hold its shared memory for a moment,
			// and the server refuses to start until they are gone.
			c.logger.WarnContext(ctx, "embedded postgres did not start again, retrying",
				slog.Any("error", err), slog.Duration("retry_in", backoff))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
	}
}

// waitGone waits until the postmaster in use exits and returns its pid; it returns false
// when ctx ends first.
func (c *Cluster) waitGone(ctx context.Context) (int, bool) {
	c.mu.Lock()
	pid, proc := c.pid, c.proc
	c.mu.Unlock()
	var exited <-chan struct{} // nil, never ready, when another process started it
	if proc != nil {
		exited = proc.Exited()
	}
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return pid, false
		case <-exited:
			return pid, true
		case <-t.C:
			if !pgproc.IsPostgres(pid) {
				return pid, true
			}
		}
	}
}

// restart brings the server back under the lock: the first process to get there starts
// it, the others find it running and attach.
func (c *Cluster) restart(ctx context.Context) error {
	unlock, err := lock(ctx, filepath.Join(c.home, lockFile))
	if err != nil {
		return err
	}
	defer unlock()
	return c.run(ctx, false)
}

// takeLease opens path and takes a shared flock on it, which lasts until the file is
// closed or the process ends. The caller holds the lock, and only a process holding the
// lock ever holds the lease exclusively (lastUser), so this does not wait.
func takeLease(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// lastUser reports whether no one holds a lease on path any more. The caller holds the
// lock, so no lease is taken meanwhile, and has given up its own.
func lastUser(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	return true, nil
}

// lock takes an exclusive flock on path, waiting (while ctx allows) for other processes
// or goroutines starting, restarting or stopping the same cluster, and returns its
// release.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t := time.NewTicker(pgproc.PollInterval)
	defer t.Stop()
	for {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
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

// flock applies how to f, retrying when a signal interrupts the call.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
