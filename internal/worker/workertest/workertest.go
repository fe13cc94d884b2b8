// Package workertest runs real openwatch processes in tests: it builds the binary (with
// the test-only job kinds of package testjobs) and starts `openwatch worker` and
// `openwatch serve` processes against a test database, so tests can kill a worker in the
// middle of a job, or watch an event cross from a worker to several serve processes.
//
// Every process of one database shares one secrets key and one token signing key (as the
// processes of one installation must), kept in a directory made for the first process of
// that DSN; each process has a data directory of its own. Processes are killed when the
// test ends, and their output is logged when it failed.
//
// Typical use:
//
//	bin := workertest.BuildBinary(t)
//	dsn := pgtest.NewDSN(t)
//	w := workertest.StartWorkerProcess(t, bin, dsn, "OPENWATCH_WORKER_RESCUE_AFTER=2s")
//	s := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
//	resp, err := s.Client().Get(s.URL + "/api/v1/health")
package workertest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/tlscert"
	"github.com/openwatch/openwatch/internal/worker/testjobs"
)

// StartTimeout bounds how long a process may take to become ready, and StopTimeout how
// long it may take to exit after SIGTERM. They are deadlines for hung tests, not timing
// assertions.
const (
	StartTimeout = 90 * time.Second
	StopTimeout  = 60 * time.Second
)

// BuildBinary builds cmd/openwatch with the test job kinds into a temporary directory and
// returns its path. Go's build cache makes every build after the first a link step.
func BuildBinary(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "openwatch")
	cmd := exec.Command("go", "build", "-tags", testjobs.BuildTag, "-o", out, "github.com/openwatch/openwatch/cmd/openwatch")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build openwatch: %v\n%s", err, b)
	}
	return out
}

// Process is a running openwatch process.
type Process struct {
	t       testing.TB
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan struct{}
	waitErr error
	// PID is the process id.
	PID int
	// DataDir is the process's server.data_dir.
	DataDir string
}

// StartWorkerProcess starts `openwatch worker` on dsn and waits until it works jobs.
// extraEnv entries (KEY=VALUE, such as OPENWATCH_WORKER_RESCUE_AFTER=2s) are added to the
// environment.
func StartWorkerProcess(t testing.TB, binary, dsn string, extraEnv ...string) *Process {
	t.Helper()
	p := start(t, binary, "worker", dsn, extraEnv)
	p.waitLog("openwatch worker running")
	return p
}

// ServeProcess is a running `openwatch serve`.
type ServeProcess struct {
	*Process
	// URL is the server's base URL, such as https://127.0.0.1:40123 (no trailing slash).
	URL string
	// CAFile is the PEM file of the CA that signed the server's certificate.
	CAFile string
}

// StartServeProcess starts `openwatch serve` on dsn, listening on a free port of
// 127.0.0.1, and waits until it accepts connections. extraEnv entries are added to the
// environment (for example OPENWATCH_WORKER_WITH_WORKER=false).
func StartServeProcess(t testing.TB, binary, dsn string, extraEnv ...string) *ServeProcess {
	t.Helper()
	env := append([]string{"OPENWATCH_SERVER_LISTEN=127.0.0.1:0"}, extraEnv...)
	p := start(t, binary, "serve", dsn, env)
	line := p.waitLog("openwatch serving")
	var rec struct {
		Listen string `json:"listen"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &rec), "serve's ready line: %s", line)
	return &ServeProcess{Process: p, URL: "https://" + rec.Listen, CAFile: filepath.Join(p.DataDir, "tls", tlscert.CACertFile)}
}

// Client returns an HTTP client that trusts the server's CA.
func (s *ServeProcess) Client() *http.Client {
	s.t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	require.NoError(s.t, err)
	roots := x509.NewCertPool()
	require.True(s.t, roots.AppendCertsFromPEM(pem), "no certificate in %s", s.CAFile)
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	}
}

// AdminPassword returns the initial admin password this serve created, or "" when the
// database already had users (another serve of the same database created the admin).
func (s *ServeProcess) AdminPassword() string {
	b, err := os.ReadFile(filepath.Join(s.DataDir, "initial-admin-password"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// keyDirs maps a DSN to the directory of the keys its processes share.
var keyDirs sync.Map

func sharedKeys(t testing.TB, dsn string) string {
	dir, _ := keyDirs.LoadOrStore(dsn, sync.OnceValue(t.TempDir))
	return dir.(func() string)()
}

// start runs `binary sub` with a configuration of its own: an empty config file, no
// secrets file, a temporary data dir, the shared keys, JSON logs.
func start(t testing.TB, binary, sub, dsn string, extraEnv []string) *Process {
	t.Helper()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	keys := sharedKeys(t, dsn)
	configPath := filepath.Join(dir, "openwatch.toml")
	// Many processes share this machine: none serves metrics on the fixed default ports
	// unless extraEnv asks (OPENWATCH_METRICS_LISTEN=127.0.0.1:0 picks a free port; an
	// empty environment value counts as unset, so the file turns them off).
	require.NoError(t, os.WriteFile(configPath, []byte("[metrics]\nlisten = \"\"\nworker_listen = \"\"\n"), 0o600))

	cmd := exec.Command(binary, sub, "--config", configPath, "--secrets-env", filepath.Join(dir, "no-secrets.env"))
	cmd.Env = append(foreignEnv(),
		"OPENWATCH_DATABASE_DSN="+dsn,
		"OPENWATCH_DATABASE_MAX_CONNECTIONS=8",
		"OPENWATCH_SERVER_DATA_DIR="+dataDir,
		"OPENWATCH_SECRETS_KEY_FILE="+filepath.Join(keys, "secrets.key"),
		"OPENWATCH_AUTH_SIGNING_KEY_FILE="+filepath.Join(keys, "jwt-signing.jwk"),
		"OPENWATCH_LOGGING_FORMAT=json",
		"OPENWATCH_LOGGING_LEVEL=info",
		// The processes may contact nothing but this machine.
		"OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// The process dies with the test binary even if cleanups never run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start(), "start openwatch %s", sub)
	p := &Process{t: t, cmd: cmd, out: out, done: make(chan struct{}), PID: cmd.Process.Pid, DataDir: dataDir}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of openwatch %s (pid %d):\n%s", sub, p.PID, out.String())
		}
	})
	return p
}

// foreignEnv returns the test's environment without OPENWATCH_* variables, so nothing
// of the test process leaks into the child's configuration.
func foreignEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENWATCH_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitLog waits until a log line with the message msg appears and returns that line. It
// fails the test if the process exits first.
func (p *Process) waitLog(msg string) string {
	p.t.Helper()
	deadline := time.After(StartTimeout)
	for {
		if line, ok := p.FindLog(msg); ok {
			return line
		}
		select {
		case <-p.done:
			p.t.Fatalf("openwatch (pid %d) exited before logging %q: %v\n%s", p.PID, msg, p.waitErr, p.out.String())
		case <-deadline:
			p.t.Fatalf("openwatch (pid %d) did not log %q within %s\n%s", p.PID, msg, StartTimeout, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FindLog returns the first JSON log line whose msg is msg.
func (p *Process) FindLog(msg string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(p.out.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == msg {
			return sc.Text(), true
		}
	}
	return "", false
}

// Output returns everything the process wrote so far (stdout and stderr).
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits for the process to die. Killing a dead process is a no-op.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits for the process to exit; it returns the exit error (nil
// for exit status 0). It fails the test if the process is still running after
// StopTimeout.
func (p *Process) Stop() error {
	p.t.Helper()
	if !p.Exited() {
		require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	}
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(StopTimeout):
		p.t.Fatalf("openwatch (pid %d) still runs %s after SIGTERM\n%s", p.PID, StopTimeout, p.out.String())
		return nil
	}
}

// syncBuffer is an io.Writer the process's two output pipes share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// String describes the process for messages.
func (p *Process) String() string { return fmt.Sprintf("openwatch pid %d", p.PID) }
