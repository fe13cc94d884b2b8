// Command withpg runs a command with a throwaway PostgreSQL server:
//
//	go run ./scripts/withpg -- go test -race ./...
//
// It starts one server exactly as internal/pg/pgtest does (a fresh cluster in a temporary
// directory on a free 127.0.0.1 port, run as the postgres or nobody user when root),
// exports its superuser DSN to the command as OPENWATCH_TEST_DSN (so every test package
// shares the one server), passes stdin, stdout and stderr through, then stops the server
// and removes its files, and exits with the command's exit code. SIGINT and SIGTERM are
// passed on to the command; the server is stopped once the command has ended. When
// OPENWATCH_TEST_DSN is already set, withpg just runs the command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: withpg -- <command> [args...]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Catch the signals before anything starts, so none is lost in between.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	env := os.Environ()
	if getenv(pgtest.EnvDSN) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		began := time.Now()
		server, err := pgtest.StartServer(ctx, logger)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "withpg: %v\n", err)
			return 1
		}
		defer func() {
			if err := server.Stop(); err != nil {
				fmt.Fprintf(stderr, "withpg: stop postgres: %v\n", err)
			}
		}()
		fmt.Fprintf(stderr, "withpg: postgres ready in %s (%s)\n", time.Since(began).Round(time.Millisecond), server.DSN())
		env = append(env, pgtest.EnvDSN+"="+server.DSN())
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "withpg: %v\n", err)
		return 127
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				// A terminal's Ctrl-C reaches the command directly as well (same process
				// group); forwarding covers a signal sent to withpg alone.
				_ = cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitCode(err, stderr)
}

// exitCode turns the command's end into withpg's exit code, following the shell's
// convention of 128+n for a command killed by signal n.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		fmt.Fprintf(stderr, "withpg: %v\n", err)
		return 1
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exitErr.ExitCode()
}
