// Package sshtest runs real OpenSSH servers for tests: Start launches
// /usr/sbin/sshd on a loopback address and a free port with its own config
// and host key, and provides test users (passwordless sudo, password sudo,
// no sudo, root) that log in with a key or a password. Farm serves thousands
// of in-process SSH endpoints on loopback for benchmarks.
//
// Tests that use it must run as root; when sshd cannot start they fail with
// the reason and never skip.
//
// Isolation. With Options.Overlay, Sysctl or Tmpfs, sshd runs in a mount
// namespace of its own (unshare --mount, private propagation), and so does
// every session it serves. What is isolated there: files under the overlaid
// directories (writes go to a throwaway upper directory, removed when the
// server stops), the fake /proc/sys (Sysctl: sysctl -w and writes under
// /proc/sys change only the fake's files) and the tmpfs mounts (Tmpfs: they
// may be remounted with any options). What is not isolated: the kernel itself
// (modules, audit rules, network, processes: loading a module or an audit rule
// would change this machine, so a test stubs modprobe, auditctl and
// augenrules by writing scripts into an overlaid /usr), files outside the
// overlays, the machine's other mounts, and a running systemd (none here:
// without /run/systemd/system, systemctl --root=/ changes only unit links
// under an overlaid /etc). Tests must write only where they overlaid.
package sshtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/sshx"
)

// Options configures Start.
type Options struct {
	// Addr is the loopback IP to listen on (default 127.0.0.1). Any
	// 127.0.0.0/8 address works on Linux.
	Addr string
	// Overlay lists directories (such as /etc) that sshd and every session it
	// serves see through a throwaway overlay, in a mount namespace of their
	// own: a test may change files there over SSH (as a remediation would)
	// and this machine's own directories stay untouched. The overlays go when
	// the server stops.
	Overlay []string
	// Sysctl, when set, gives the target a fake /proc/sys: a tree of regular files, one
	// per key ("kernel.randomize_va_space" is kernel/randomize_va_space) holding its
	// value, bind-mounted over /proc/sys in the server's mount namespace. sysctl(8) and
	// writes under /proc/sys there read and change the fake; the kernel's parameters
	// never change. Only the keys given exist.
	Sysctl map[string]string
	// Tmpfs lists mount points on which a fresh tmpfs (default options) is mounted in
	// the server's mount namespace, for tests that remount with other options: the
	// machine's own mounts are never remounted. Not under /tmp (the server's own files
	// are there).
	Tmpfs []string
	// TrustedUserCAKeys, when set, is the content of sshd's TrustedUserCAKeys file: users
	// may then also log in with certificates those CAs signed.
	TrustedUserCAKeys string
	// RevokedKeys, when set, is the content of sshd's RevokedKeys file (an OpenSSH KRL or
	// a list of public keys): sshd refuses the keys and certificates it revokes.
	RevokedKeys []byte
	// SystemConfig makes sshd run as a host's own sshd does, for tests of scripts that
	// configure it: its configuration is /etc/ssh/sshd_config (including the drop-ins
	// /etc/ssh/sshd_config.d/*.conf first, as Debian's does), its host key
	// /etc/ssh/ssh_host_ed25519_key (with the .pub beside it) and its pid file
	// /run/sshd.pid, all written at each start inside the overlays, so Overlay must
	// include /etc and /run. A reload (SIGHUP to the pid in the pid file) re-reads them.
	SystemConfig bool
	// AllowUsers adds users (beyond root and the test users) who may log in.
	AllowUsers []string
}

// Server is a running sshd. Its methods are not safe for concurrent use.
type Server struct {
	Addr    string        // host:port
	Host    string        // IP
	Port    int           // TCP port, the same across restarts
	HostKey ssh.PublicKey // the key sshd presents (changes after RotateHostKey)

	t        testing.TB
	dir      string
	id       *identity
	cmd      *exec.Cmd
	exited   chan struct{}
	logPath  string
	penalty  bool // the config disables PerSourcePenalties (OpenSSH >= 9.8)
	hostPath string
	overlay  []string
	sysctl   map[string]string
	tmpfs    []string
	userCAs  string   // path of the TrustedUserCAKeys file, "" for none
	revoked  string   // path of the RevokedKeys file, "" for none
	system   bool     // Options.SystemConfig
	allow    []string // Options.AllowUsers
	hostCert string   // path of the HostCertificate file, "" for none
}

// startAttempts is how many free ports Start tries before giving up.
const startAttempts = 5

// readyTimeout bounds how long sshd may take to accept connections.
const readyTimeout = 15 * time.Second

// Start runs sshd on opts.Addr on a free port and registers its cleanup. It
// fails the test when sshd cannot start.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1"
	}
	if _, err := os.Stat(sshdPath()); err != nil {
		t.Fatalf("sshtest: the SSH tests need OpenSSH's sshd and sudo (Debian packages openssh-server and sudo; `make test-deps` installs them): %v", err)
	}
	id, err := loadIdentity()
	if err != nil {
		t.Fatalf("sshtest: prepare test users: %v", err)
	}
	s := &Server{t: t, Host: opts.Addr, id: id, overlay: opts.Overlay, sysctl: opts.Sysctl, tmpfs: opts.Tmpfs,
		system: opts.SystemConfig, allow: opts.AllowUsers}
	if opts.SystemConfig && (!slices.Contains(opts.Overlay, "/etc") || !slices.Contains(opts.Overlay, "/run")) {
		t.Fatalf("sshtest: SystemConfig writes under /etc and /run: Overlay must include both")
	}
	for _, u := range opts.AllowUsers {
		if u == "" || strings.ContainsAny(u, " \t\n") {
			t.Fatalf("sshtest: AllowUsers: %q is not a user name", u)
		}
	}
	if err := s.prepareDir(); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	t.Cleanup(s.cleanup)
	if opts.TrustedUserCAKeys != "" {
		s.userCAs = filepath.Join(s.dir, "trusted_user_ca_keys")
		if err := os.WriteFile(s.userCAs, []byte(opts.TrustedUserCAKeys), 0o644); err != nil {
			t.Fatalf("sshtest: write trusted user CA keys: %v", err)
		}
	}
	if opts.RevokedKeys != nil {
		s.revoked = filepath.Join(s.dir, "revoked_keys")
		if err := os.WriteFile(s.revoked, opts.RevokedKeys, 0o644); err != nil {
			t.Fatalf("sshtest: write revoked keys: %v", err)
		}
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort(s.Host)
		if err != nil {
			t.Fatalf("sshtest: find a free port on %s: %v", s.Host, err)
		}
		s.setPort(port)
		err = s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			t.Fatalf("sshtest: start sshd on %s: %v\nsshd output:\n%s", s.Addr, err, s.Log())
		}
	}
}

func (s *Server) setPort(port int) {
	s.Port = port
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
}

// User returns the login material of a test user.
func (s *Server) User(kind UserKind) User {
	name, ok := userNames[kind]
	if !ok {
		s.t.Fatalf("sshtest: unknown user kind %d", kind)
	}
	return User{Kind: kind, Name: name, Password: s.id.passwords[name], PrivateKey: s.id.privatePEM}
}

// HostKeys returns a verifier accepting only the server's current host key.
func (s *Server) HostKeys() sshx.HostKeyVerifier { return sshx.FixedHostKey(s.HostKey) }

// Dial logs in as the test user with key and password, verifying the
// current host key, and closes the client at the end of the test.
func (s *Server) Dial(t testing.TB, kind UserKind) *sshx.Client {
	t.Helper()
	c, err := sshx.Loopback().Dial(context.Background(), s.Addr, s.User(kind).Auth(), sshx.Options{HostKeys: s.HostKeys()})
	if err != nil {
		t.Fatalf("sshtest: dial %s as %s: %v", s.Addr, userNames[kind], err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop stops sshd; the port then refuses connections. Established
// connections are served by their own sshd processes and stay open.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts sshd again on the same port, with the current host key.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if !errors.Is(err, errPortInUse) || time.Now().After(deadline) {
			s.t.Fatalf("sshtest: restart sshd on %s: %v\nsshd output:\n%s", s.Addr, err, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RotateHostKey replaces the host key; the next Restart presents it and
// HostKey is updated at once.
func (s *Server) RotateHostKey() {
	s.t.Helper()
	if err := s.writeHostKey(); err != nil {
		s.t.Fatalf("sshtest: %v", err)
	}
}

// SetHostCertificate makes sshd present cert (a host certificate in authorized_keys
// format, for the current host key) from the next Restart on; "" removes it. Only this
// server's own files and process are touched.
func (s *Server) SetHostCertificate(cert string) {
	s.t.Helper()
	path := s.hostPath + "-cert.pub"
	if cert == "" {
		_ = os.Remove(path)
		s.hostCert = ""
		return
	}
	if err := os.WriteFile(path, []byte(strings.TrimSpace(cert)+"\n"), 0o644); err != nil {
		s.t.Fatalf("sshtest: write host certificate: %v", err)
	}
	s.hostCert = path
}

// Log returns what sshd has logged so far (the end of it when it is long).
func (s *Server) Log() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no sshd log: %v)", err)
	}
	if len(data) > maxLog {
		data = data[len(data)-maxLog:]
	}
	return string(data)
}

// logFrom returns the log after offset.
func (s *Server) logFrom(offset int64) string {
	data, _ := os.ReadFile(s.logPath)
	if int64(len(data)) < offset {
		return string(data)
	}
	return string(data[offset:])
}

func (s *Server) cleanup() {
	s.Stop()
	if s.t.Failed() {
		s.t.Logf("sshtest: sshd %s output:\n%s", s.Addr, s.Log())
	}
	_ = os.RemoveAll(s.dir)
}

// prepareDir creates the server directory: host key, authorized keys per
// user (readable by the users, as sshd reads them with the user's uid) and
// the config.
func (s *Server) prepareDir() error {
	dir, err := os.MkdirTemp("", "owtest-sshd-")
	if err != nil {
		return fmt.Errorf("create server dir: %w", err)
	}
	s.dir = dir
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o711); err != nil {
		return fmt.Errorf("create keys dir: %w", err)
	}
	// MkdirTemp creates 0700; the users must traverse it to read their keys.
	if err := os.Chmod(dir, 0o711); err != nil {
		return fmt.Errorf("chmod server dir: %w", err)
	}
	for _, name := range userNames {
		if err := os.WriteFile(filepath.Join(keys, name), s.id.authorized, 0o644); err != nil {
			return fmt.Errorf("write authorized keys: %w", err)
		}
	}
	s.hostPath = filepath.Join(dir, "host_ed25519_key")
	s.logPath = filepath.Join(dir, "sshd.log")
	if err := s.writeHostKey(); err != nil {
		return err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return fmt.Errorf("create sshd privilege separation dir: %w", err)
	}
	s.penalty = supportsPerSourcePenalties()
	return nil
}

// writeHostKey generates a new ed25519 host key.
func (s *Server) writeHostKey() error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return fmt.Errorf("marshal host key: %w", err)
	}
	if err := os.WriteFile(s.hostPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write host key: %w", err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("host public key: %w", err)
	}
	if err := os.WriteFile(s.hostPath+".pub", ssh.MarshalAuthorizedKey(key), 0o644); err != nil {
		return fmt.Errorf("write host public key: %w", err)
	}
	s.HostKey = key
	return nil
}

// config renders sshd_config for the current port.
func (s *Server) config() string {
	var b strings.Builder
	pidFile := "none"
	if s.system {
		// As Debian's sshd_config: the drop-ins first, so their settings win.
		b.WriteString("Include /etc/ssh/sshd_config.d/*.conf\n")
		fmt.Fprintf(&b, "Port %d\nListenAddress %s\n", s.Port, s.Host)
		b.WriteString("HostKey " + systemHostKey + "\n")
		pidFile = "/run/sshd.pid"
	} else {
		fmt.Fprintf(&b, "ListenAddress %s\n", s.Addr)
		fmt.Fprintf(&b, "HostKey %s\n", s.hostPath)
	}
	if s.hostCert != "" {
		fmt.Fprintf(&b, "HostCertificate %s\n", s.hostCert)
	}
	fmt.Fprintf(&b, "AuthorizedKeysFile %s/keys/%%u\n", s.dir)
	fmt.Fprintf(&b, "PidFile %s\n", pidFile)
	fmt.Fprintf(&b, "AllowUsers %s\n", strings.Join(append([]string{"root", "owtest-*"}, s.allow...), " "))
	b.WriteString(`UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitEmptyPasswords no
MaxStartups 1000
MaxSessions 100
MaxAuthTries 6
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel VERBOSE
`)
	if s.penalty {
		b.WriteString("PerSourcePenalties no\n")
	}
	if s.userCAs != "" {
		fmt.Fprintf(&b, "TrustedUserCAKeys %s\n", s.userCAs)
	}
	if s.revoked != "" {
		fmt.Fprintf(&b, "RevokedKeys %s\n", s.revoked)
	}
	return b.String()
}

var errPortInUse = errors.New("port in use")

// systemHostKey is the host key's path with Options.SystemConfig.
const systemHostKey = "/etc/ssh/ssh_host_ed25519_key"

// command returns sshd's command: sshd itself, or with overlays unshare(1) mounting them
// in a private mount namespace and then running sshd there (unshare execs, so the
// process is sshd's).
func (s *Server) command(cfg string) (*exec.Cmd, error) {
	if len(s.overlay) == 0 && len(s.sysctl) == 0 && len(s.tmpfs) == 0 {
		return exec.Command(sshdPath(), "-D", "-e", "-f", cfg), nil
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	for i, dir := range s.overlay {
		if !filepath.IsAbs(dir) || strings.ContainsAny(dir, "',\n") {
			return nil, fmt.Errorf("overlay %q: want an absolute path without quotes or commas", dir)
		}
		base := filepath.Join(s.dir, "overlay", strconv.Itoa(i))
		upper, work := filepath.Join(base, "upper"), filepath.Join(base, "work")
		if err := os.MkdirAll(upper, 0o755); err != nil {
			return nil, fmt.Errorf("overlay %s: %w", dir, err)
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return nil, fmt.Errorf("overlay %s: %w", dir, err)
		}
		fmt.Fprintf(&script, "mount -t overlay overlay -o 'lowerdir=%s,upperdir=%s,workdir=%s' '%s'\n", dir, upper, work, dir)
	}
	for _, dir := range s.tmpfs {
		if !filepath.IsAbs(dir) || strings.ContainsAny(dir, "'\n") || dir == "/tmp" || strings.HasPrefix(dir, "/tmp/") {
			return nil, fmt.Errorf("tmpfs %q: want an absolute path without quotes, not under /tmp", dir)
		}
		fmt.Fprintf(&script, "mkdir -p '%s'\nmount -t tmpfs -o size=16m owtest '%s'\n", dir, dir)
	}
	if len(s.sysctl) > 0 {
		fake, err := s.fakeProcSys()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&script, "mount --bind '%s' /proc/sys\n", fake)
	}
	if s.system {
		// Written inside the overlays at each start, like a host's own files.
		fmt.Fprintf(&script, "mkdir -p /etc/ssh/sshd_config.d\ncat '%s' >/etc/ssh/sshd_config\n", cfg)
		fmt.Fprintf(&script, "install -m 0600 '%s' %s\ninstall -m 0644 '%s.pub' %s.pub\n", s.hostPath, systemHostKey, s.hostPath, systemHostKey)
		cfg = "/etc/ssh/sshd_config"
	}
	fmt.Fprintf(&script, "exec '%s' -D -e -f '%s'\n", sshdPath(), cfg)
	return exec.Command("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String()), nil
}

// start launches sshd and waits until it serves its banner.
func (s *Server) start() error {
	cfg := filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(s.config()), 0o600); err != nil {
		return fmt.Errorf("write sshd_config: %w", err)
	}
	// A file, not a pipe: the per-connection sshd processes inherit it and
	// may outlive the listener, and Wait must not wait for them.
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open sshd log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	info, err := logFile.Stat()
	if err != nil {
		return fmt.Errorf("stat sshd log: %w", err)
	}
	mark := info.Size()
	cmd, err := s.command(cfg)
	if err != nil {
		return err
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec sshd: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			s.cmd = nil
			out := s.logFrom(mark)
			if strings.Contains(out, "Address already in use") {
				return fmt.Errorf("sshd exited: %w", errPortInUse)
			}
			return fmt.Errorf("sshd exited during start-up: %s", strings.TrimSpace(out))
		default:
		}
		banner, _, err := sshx.Loopback().Banner(context.Background(), s.Addr, time.Second)
		if err == nil && strings.HasPrefix(banner, "SSH-") {
			return nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("sshd did not serve a banner within %s: %v", readyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sshdPath finds sshd on PATH or in /usr/sbin, where Debian installs it.
func sshdPath() string {
	if p, err := exec.LookPath("sshd"); err == nil && filepath.IsAbs(p) {
		return p
	}
	return "/usr/sbin/sshd"
}

var (
	penaltyOnce sync.Once
	penaltyVal  bool
)

// supportsPerSourcePenalties reports whether this sshd knows
// PerSourcePenalties (OpenSSH 9.8+), which must be off: the tests' deliberate
// authentication failures would otherwise get loopback refused.
func supportsPerSourcePenalties() bool {
	penaltyOnce.Do(func() {
		out, _ := exec.Command(sshdPath(), "-T", "-f", os.DevNull,
			"-o", "PerSourcePenalties=no", "-o", "HostKey="+os.DevNull).CombinedOutput()
		penaltyVal = !bytes.Contains(out, []byte("Bad configuration option")) &&
			!bytes.Contains(out, []byte("unsupported option"))
	})
	return penaltyVal
}

// freePort asks the kernel for a free TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// maxLog bounds how much of sshd's log Log returns.
const maxLog = 1 << 20

// fakeProcSys writes the fake /proc/sys tree (once; a restart keeps what the target
// changed) and returns its directory.
func (s *Server) fakeProcSys() (string, error) {
	fake := filepath.Join(s.dir, "proc-sys")
	if _, err := os.Stat(fake); err == nil {
		return fake, nil
	}
	for key, value := range s.sysctl {
		rel := strings.ReplaceAll(key, ".", "/")
		if key == "" || strings.ContainsAny(key, "'\n") || strings.Contains(rel, "..") || strings.HasPrefix(rel, "/") {
			return "", fmt.Errorf("sysctl key %q: want a dotted parameter name", key)
		}
		path := filepath.Join(fake, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("fake /proc/sys: %w", err)
		}
		if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
			return "", fmt.Errorf("fake /proc/sys: %w", err)
		}
	}
	return fake, nil
}
