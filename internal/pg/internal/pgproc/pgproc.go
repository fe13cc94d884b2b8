// Package pgproc finds the system's PostgreSQL server binaries and runs them: as the
// `postgres` (or `nobody`) system user when the caller is root, since initdb and postgres
// refuse to run as root, and tied to the caller's life with Pdeathsig. It is shared by the
// embedded cluster and the test server.
package pgproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// MinMajor is the oldest PostgreSQL major version OpenWatch supports.
const MinMajor = 13

// ErrNotFound is returned by FindBinaries when no PostgreSQL server binaries exist.
var ErrNotFound = errors.New("PostgreSQL server binaries not found")

// debianBinGlob is where Debian and Ubuntu install one directory per major version.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// Binaries is a directory holding initdb and postgres, with their version.
type Binaries struct {
	Dir     string // directory of initdb and postgres
	Major   int    // major version, for example 15
	Version string // the full version string printed by postgres --version
}

// Path returns the path of the program name in b.
func (b Binaries) Path(name string) string { return filepath.Join(b.Dir, name) }

// FindBinaries locates the PostgreSQL server programs: in dir when it is not empty;
// otherwise next to initdb found on $PATH (after resolving symlinks, since Debian's
// /usr/bin wrappers are not the real programs), then in the highest
// /usr/lib/postgresql/<major>/bin. It runs `postgres --version` and refuses versions
// older than MinMajor.
func FindBinaries(dir string) (Binaries, error) {
	if dir == "" {
		dir = searchBinDir()
	}
	if dir == "" {
		return Binaries{}, ErrNotFound
	}
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return Binaries{}, fmt.Errorf("%w: no %s in %s", ErrNotFound, name, dir)
		}
	}
	b := Binaries{Dir: dir}
	out, err := exec.Command(b.Path("postgres"), "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("run %s --version: %w", b.Path("postgres"), err)
	}
	b.Version = strings.TrimSpace(string(out))
	b.Major, err = ParseMajor(b.Version)
	if err != nil {
		return Binaries{}, err
	}
	if b.Major < MinMajor {
		return Binaries{}, fmt.Errorf("PostgreSQL %d is too old: OpenWatch needs PostgreSQL %d or newer (found %s)",
			b.Major, MinMajor, b.Dir)
	}
	return b, nil
}

func searchBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
	}
	dirs, _ := filepath.Glob(debianBinGlob)
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil && major > bestMajor {
			best, bestMajor = d, major
		}
	}
	return best
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?`)

// ParseMajor returns the major version in the output of `postgres --version`, such as
// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" (15) or "... 9.6.24" (9).
func ParseMajor(versionOutput string) (int, error) {
	m := versionRE.FindStringSubmatch(versionOutput)
	if m == nil {
		return 0, fmt.Errorf("unrecognised PostgreSQL version %q", versionOutput)
	}
	return strconv.Atoi(m[1])
}

// User is the account the server processes run as.
type User struct {
	Name   string
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups, for permission checks
	// Switch is true when the caller is root and children must change to this user.
	Switch bool
}

// ServerUser returns the account PostgreSQL should run as: the current user, or when the
// caller is root, `postgres` if it exists, else `nobody`.
func ServerUser() (User, error) {
	if os.Geteuid() != 0 {
		return User{
			Name: currentUserName(),
			UID:  uint32(os.Geteuid()),
			GID:  uint32(os.Getegid()),
		}, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := lookupUser(name)
		if err == nil {
			u.Switch = true
			return u, nil
		}
		errs = append(errs, err)
	}
	return User{}, fmt.Errorf("running as root, and no unprivileged user to run PostgreSQL as: %w", errors.Join(errs...))
}

func currentUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Geteuid())
}

func lookupUser(name string) (User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return User{}, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return User{}, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return User{}, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	out := User{Name: name, UID: uint32(uid), GID: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				out.Groups = append(out.Groups, uint32(g))
			}
		}
	}
	return out, nil
}

// Chown gives path to u when children switch users; otherwise it does nothing.
func (u User) Chown(path string) error {
	if !u.Switch {
		return nil
	}
	if err := os.Lchown(path, int(u.UID), int(u.GID)); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, u.Name, err)
	}
	return nil
}

// CanTraverse reports whether u may search (enter) every directory from / down to dir,
// judged from the permission bits as the kernel would for that user. For a user that is
// the caller itself it only checks that dir exists. The first directory that stops u is
// returned with the answer.
func (u User) CanTraverse(dir string) (bool, string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false, "", err
	}
	if !u.Switch {
		_, err := os.Stat(dir)
		return err == nil, dir, err
	}
	if u.UID == 0 {
		return true, "", nil
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return false, p, err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false, p, fmt.Errorf("stat %s: no ownership information", p)
		}
		mode := fi.Mode().Perm()
		var bit os.FileMode
		switch {
		case st.Uid == u.UID:
			bit = 0o100
		case st.Gid == u.GID || slices.Contains(u.Groups, st.Gid):
			bit = 0o010
		default:
			bit = 0o001
		}
		if mode&bit == 0 {
			return false, p, nil
		}
		if p == filepath.Dir(p) {
			return true, "", nil
		}
	}
}

// Command returns a command for the PostgreSQL program name that runs as u, in its own
// process group (so a terminal's Ctrl-C reaches it only through its owner), and receives
// deathSig when the process that started it dies (0 for none). The environment is the
// caller's without PG* variables, which would otherwise steer initdb and postgres. The
// command is not tied to a context: a server must outlive the call that started it.
func (u User) Command(b Binaries, deathSig syscall.Signal, name string, args ...string) *exec.Cmd {
	return u.setup(exec.Command(b.Path(name), args...), deathSig)
}

func (u User) setup(cmd *exec.Cmd, deathSig syscall.Signal) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if u.Switch {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, NoSetGroups: true}
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd
}

// Initdb runs initdb as u with args in directory dir; its output is in the error.
func (u User) Initdb(ctx context.Context, b Binaries, dir string, args ...string) error {
	cmd := u.setup(exec.CommandContext(ctx, b.Path("initdb"), args...), syscall.SIGKILL)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Process is a running postgres started by Start.
type Process struct {
	Cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts cmd and reaps it in the background; Exited tells when it is gone.
func Start(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit status is not used: a vanished server is restarted either way
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop asks postgres for a fast shutdown (SIGINT: clients are disconnected, a checkpoint
// is written) and waits for it to exit; when ctx ends first it sends SIGQUIT (immediate
// shutdown, recovered at the next start) and waits again.
func (p *Process) Stop(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
	}
	_ = p.Cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.exited
	}
	return fmt.Errorf("postgres did not shut down in time, stopped immediately: %w", ctx.Err())
}

// StopPID does what Process.Stop does for a postmaster another process started: it asks
// for a fast shutdown and waits until pid is gone, then shuts down immediately when ctx
// ends first.
func StopPID(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("signal postgres (pid %d): %w", pid, err)
	}
	if waitGone(ctx, pid) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	quitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !waitGone(quitCtx, pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return fmt.Errorf("postgres did not shut down in time, stopped immediately: %w", ctx.Err())
}

// waitGone polls until pid is no longer a running postgres; it returns false when ctx
// ends first.
func waitGone(ctx context.Context, pid int) bool {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for IsPostgres(pid) {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// PollInterval is how often WaitReady tries to connect.
const PollInterval = 25 * time.Millisecond

// WaitReady connects to connString every PollInterval until the server accepts a
// connection, exited is closed (the server died), or timeout passes. On failure the error
// ends with the last lines of logPath.
func WaitReady(ctx context.Context, connString string, exited <-chan struct{}, timeout time.Duration, logPath string) error {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("parse connection string: %w", err)
	}
	cfg.ConnectTimeout = time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	var lastErr error
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn.Close(ctx)
		}
		lastErr = err
		select {
		case <-exited:
			return fmt.Errorf("postgres exited during start-up (log %s):\n%s", logPath, Tail(logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within %s: %w (log %s):\n%s",
				timeout, lastErr, logPath, Tail(logPath, 20))
		case <-tick.C:
		}
	}
}

// Tail returns the last n lines of the file at path, or a note saying why it can't.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const maxBytes = 16 << 10
	if len(data) > maxBytes {
		data = data[len(data)-maxBytes:]
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Alive reports whether a process with this pid exists (EPERM means it does, owned by
// someone else).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// IsPostgres reports whether pid is a live process whose command name says postgres; it
// guards against a stale pid file naming a pid the kernel has since reused. A postgres
// that has exited but is not reaped yet (a zombie) is not running.
func IsPostgres(pid int) bool {
	if !Alive(pid) {
		return false
	}
	if stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
		// The state follows the parenthesised command name: "4242 (postgres) Z ...".
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		// No /proc: trust the pid.
		return true
	}
	return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

// PidFile is what postmaster.pid says about a running server.
type PidFile struct {
	PID       int
	DataDir   string
	Port      int
	SocketDir string
}

// ReadPidFile parses <dataDir>/postmaster.pid. It returns an error satisfying
// errors.Is(err, fs.ErrNotExist) when there is none.
func ReadPidFile(dataDir string) (PidFile, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return PidFile{}, err
	}
	lines := strings.Split(string(data), "\n")
	var pf PidFile
	if len(lines) < 5 {
		return pf, fmt.Errorf("postmaster.pid in %s is incomplete", dataDir)
	}
	if pf.PID, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return pf, fmt.Errorf("postmaster.pid in %s: bad pid: %w", dataDir, err)
	}
	pf.DataDir = strings.TrimSpace(lines[1])
	if pf.Port, err = strconv.Atoi(strings.TrimSpace(lines[3])); err != nil {
		return pf, fmt.Errorf("postmaster.pid in %s: bad port: %w", dataDir, err)
	}
	pf.SocketDir = strings.TrimSpace(lines[4])
	return pf, nil
}

// QuoteDSNValue quotes v for a keyword/value connection string.
func QuoteDSNValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
