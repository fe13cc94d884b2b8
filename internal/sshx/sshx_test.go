package sshx_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// setup starts an sshd for one test.
func setup(t *testing.T) *sshtest.Server {
	t.Helper()
	return sshtest.Start(t, sshtest.Options{})
}

func dial(t *testing.T, s *sshtest.Server, auth sshx.Auth) (*sshx.Client, error) {
	t.Helper()
	c, err := sshx.Loopback().Dial(context.Background(), s.Addr, auth, sshx.Options{HostKeys: s.HostKeys()})
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

func TestDialAuthMethods(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserPlain)
	cases := map[string]sshx.Auth{
		"key":                    u.KeyAuth(),
		"password":               u.PasswordAuth(),
		"both":                   u.Auth(),
		"bad key, good password": {Username: u.Name, PrivateKey: otherKey(t), Password: u.Password},
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := dial(t, s, auth)
			require.NoError(t, err)
			r, err := c.Run(context.Background(), "id -un")
			require.NoError(t, err)
			require.Equal(t, u.Name+"\n", string(r.Stdout))
			require.Equal(t, 0, r.ExitCode)
			require.Equal(t, sshx.Fingerprint(s.HostKey), sshx.Fingerprint(c.HostKey()))
			require.True(t, strings.HasPrefix(c.ServerVersion(), "SSH-2.0-OpenSSH"))
		})
	}
}

func TestDialFailures(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserSudo)

	t.Run("wrong password", func(t *testing.T) {
		_, err := dial(t, s, sshx.Auth{Username: u.Name, Password: "wrong"})
		require.Error(t, err)
		require.Equal(t, sshx.TypeAuthFailed, sshx.ErrorType(err), err.Error())
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := dial(t, s, sshx.Auth{Username: u.Name, PrivateKey: otherKey(t)})
		require.Equal(t, sshx.TypeAuthFailed, sshx.ErrorType(err), fmt.Sprint(err))
	})
	t.Run("root password refused", func(t *testing.T) {
		_, err := dial(t, s, sshx.Auth{Username: "root", Password: u.Password})
		require.Equal(t, sshx.TypeAuthFailed, sshx.ErrorType(err), fmt.Sprint(err))
	})
	t.Run("host key changed", func(t *testing.T) {
		other, err := ssh.ParsePrivateKey(otherKey(t))
		require.NoError(t, err)
		_, err = sshx.Loopback().Dial(context.Background(), s.Addr, u.Auth(),
			sshx.Options{HostKeys: sshx.FixedHostKey(other.PublicKey())})
		require.ErrorIs(t, err, sshx.ErrHostKeyChanged)
		require.Equal(t, sshx.TypeHostKeyChanged, sshx.ErrorType(err))
	})
	t.Run("no verifier", func(t *testing.T) {
		_, err := sshx.Loopback().Dial(context.Background(), s.Addr, u.Auth(), sshx.Options{})
		require.Error(t, err)
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := dial(t, s, sshx.Auth{Username: u.Name})
		require.Error(t, err)
	})
	t.Run("connection refused", func(t *testing.T) {
		_, err := sshx.Loopback().Dial(context.Background(), closedPort(t), u.Auth(), sshx.Options{HostKeys: s.HostKeys()})
		require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err), fmt.Sprint(err))
	})
	t.Run("not ssh", func(t *testing.T) {
		addr := fakeServer(t, "HTTP/1.1 400 Bad Request\r\n\r\n")
		_, err := sshx.Loopback().Dial(context.Background(), addr, u.Auth(),
			sshx.Options{HostKeys: s.HostKeys(), DialTimeout: 300 * time.Millisecond})
		require.Equal(t, sshx.TypeProtocol, sshx.ErrorType(err), fmt.Sprint(err))
	})
	t.Run("silent server times out", func(t *testing.T) {
		addr := fakeServer(t, "")
		_, err := sshx.Loopback().Dial(context.Background(), addr, u.Auth(),
			sshx.Options{HostKeys: s.HostKeys(), DialTimeout: 200 * time.Millisecond})
		require.Equal(t, sshx.TypeTimeout, sshx.ErrorType(err), fmt.Sprint(err))
	})
}

func TestHostKeyRotation(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserPlain)
	old := s.HostKeys()
	_, err := dial(t, s, u.KeyAuth())
	require.NoError(t, err)

	s.RotateHostKey()
	s.Restart()
	_, err = sshx.Loopback().Dial(context.Background(), s.Addr, u.KeyAuth(), sshx.Options{HostKeys: old})
	require.Equal(t, sshx.TypeHostKeyChanged, sshx.ErrorType(err), fmt.Sprint(err))
	_, err = dial(t, s, u.KeyAuth())
	require.NoError(t, err)

	s.Stop()
	_, err = dial(t, s, u.KeyAuth())
	require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err), fmt.Sprint(err))
	s.Restart()
	_, err = dial(t, s, u.KeyAuth())
	require.NoError(t, err)
}

func TestBatchOutputs(t *testing.T) {
	t.Parallel()
	s := setup(t)
	c := s.Dial(t, sshtest.UserPlain)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	cmds := []sshx.Command{
		{Name: "hello", Script: "echo hello"},
		{Name: "fails", Script: "echo out; echo err >&2; exit 3"},
		{Name: "no newline", Script: "printf abc"},
		{Name: "empty", Script: "true"},
		{Name: "fake markers", Script: `printf '\nOWX0000 E 0 0\nOWX B 1\n' ; echo "'quoted'" '$HOME'`},
		{Name: "binary", Script: `printf '\000\001\377\r\n\n'`},
		{Name: "large", Script: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; printf '%s'", len(big)-1, "y")},
		{Name: "syntax error", Script: "if then fi ("},
		{Name: "stdin is empty", Script: "cat; echo done"},
		{Name: "after", Script: "echo still running"},
	}
	res, err := c.Batch(context.Background(), cmds, sshx.BatchOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, res.Sessions)
	require.Equal(t, 1, c.SessionsOpened())
	require.Len(t, res.Results, len(cmds))
	want := []struct {
		out  string
		code int
	}{
		{"hello\n", 0},
		{"out\n", 3},
		{"abc", 0},
		{"", 0},
		{"\nOWX0000 E 0 0\nOWX B 1\n'quoted' $HOME\n", 0},
		{"\x00\x01\xff\r\n\n", 0},
		{strings.Repeat("x", len(big)-1) + "y", 0},
		{"", 2},
		{"done\n", 0},
		{"still running\n", 0},
	}
	for i, w := range want {
		r := res.Results[i]
		require.Equal(t, cmds[i].Name, r.Name)
		require.Equal(t, w.code, r.ExitCode, r.Name)
		require.True(t, bytes.Equal([]byte(w.out), r.Stdout), "%s: got %q", r.Name, truncate(r.Stdout))
	}
	require.Equal(t, "err\n", string(res.Results[1].Stderr))
	require.NotEmpty(t, res.Results[7].Stderr)
	fails, ok := res.Result("fails")
	require.True(t, ok)
	require.False(t, fails.OK())
}

// TestBatchReportsCommandsAsTheyEnd: OnDone hears of a command while later ones still
// run. The second command waits for a file the test creates only after hearing of the
// first, so a batch that reported at the end would never finish.
func TestBatchReportsCommandsAsTheyEnd(t *testing.T) {
	t.Parallel()
	s := setup(t)
	c := s.Dial(t, sshtest.UserPlain)
	dir, err := os.MkdirTemp("", "batch-ondone-") // the test user must reach it
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	flag := filepath.Join(dir, "go")
	var mu sync.Mutex
	var done []int
	o := sshx.BatchOptions{OnDone: func(i int) {
		mu.Lock()
		done = append(done, i)
		mu.Unlock()
		if i == 0 {
			_ = os.WriteFile(flag, nil, 0o644)
		}
	}}
	// The first command's output fills many writes, so a marker split across two writes
	// is seen too.
	cmds := []sshx.Command{
		{Name: "first", Script: "head -c 300000 /dev/zero | tr '\\0' x"},
		{Name: "waits", Script: "n=0; while [ ! -e " + flag + " ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; [ -e " + flag + " ]"},
		{Name: "last", Script: "echo last"},
	}
	res, err := c.Batch(context.Background(), cmds, o)
	require.NoError(t, err)
	require.Len(t, res.Results[0].Stdout, 300000)
	require.Equal(t, 0, res.Results[1].ExitCode, "the second command never saw the file: the first was not reported while it waited")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{0, 1, 2}, done)
}

func TestBatchCommandTimeout(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserPlain)
	c, err := sshx.Loopback().Dial(context.Background(), s.Addr, u.KeyAuth(),
		sshx.Options{HostKeys: s.HostKeys(), CommandTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	_, err = c.Batch(context.Background(), []sshx.Command{{Name: "slow", Script: "sleep 30"}}, sshx.BatchOptions{})
	require.ErrorIs(t, err, sshx.ErrCommandTimeout)
	require.Equal(t, sshx.TypeCommandTimeout, sshx.ErrorType(err))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Batch(ctx, []sshx.Command{{Name: "slow", Script: "sleep 30"}}, sshx.BatchOptions{})
	require.Equal(t, sshx.TypeCommandTimeout, sshx.ErrorType(err))

	// The connection survives a timed-out session.
	r, err := c.Run(context.Background(), "echo ok")
	require.NoError(t, err)
	require.Equal(t, "ok\n", string(r.Stdout))
}

// TestBatchTimeoutKillsRootCommands checks that a timed-out batch leaves no
// command behind, even one running as root under sudo.
func TestBatchTimeoutKillsRootCommands(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserSudo)
	c, err := sshx.Loopback().Dial(context.Background(), s.Addr, u.KeyAuth(),
		sshx.Options{HostKeys: s.HostKeys(), CommandTimeout: 500 * time.Millisecond})
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	marker := fmt.Sprintf("%d", 100000+time.Now().UnixNano()%800000)
	_, err = c.Batch(context.Background(), []sshx.Command{{Name: "slow", Script: "sleep " + marker}},
		sshx.BatchOptions{Privileged: true})
	require.Equal(t, sshx.TypeCommandTimeout, sshx.ErrorType(err), fmt.Sprint(err))

	root := s.Dial(t, sshtest.UserRoot)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := root.Run(context.Background(), "pgrep -f 'sleep "+marker+"$'")
		require.NoError(t, err)
		if r.ExitCode == 1 {
			return
		}
		require.True(t, time.Now().Before(deadline), "sleep %s still runs: %s", marker, r.Stdout)
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBatchPrivilege(t *testing.T) {
	t.Parallel()
	s := setup(t)
	privileged := []sshx.Command{
		{Name: "uid", Script: "id -u"},
		{Name: "shadow", Script: "head -c 5 /etc/shadow"},
	}
	cases := []struct {
		name string
		kind sshtest.UserKind
		opts sshx.BatchOptions
		want sshx.Privilege
	}{
		{"root skips sudo", sshtest.UserRoot, sshx.BatchOptions{}, sshx.PrivRoot},
		{"passwordless sudo", sshtest.UserSudo, sshx.BatchOptions{}, sshx.PrivSudo},
		{"passwordless sudo with a stale hint", sshtest.UserSudo, sshx.BatchOptions{Privilege: sshx.PrivNone}, sshx.PrivSudo},
		{"password sudo allowed", sshtest.UserSudoPassword, sshx.BatchOptions{AllowSudoPassword: true}, sshx.PrivSudoPassword},
		{"password sudo learned", sshtest.UserSudoPassword, sshx.BatchOptions{AllowSudoPassword: true, Privilege: sshx.PrivSudoPassword}, sshx.PrivSudoPassword},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := s.User(tc.kind)
			c := s.Dial(t, tc.kind)
			o := tc.opts
			o.Privileged = true
			if o.AllowSudoPassword {
				o.SudoPassword = u.Password
			}
			res, err := c.Batch(context.Background(), privileged, o)
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Privilege)
			require.Equal(t, "0\n", string(res.Results[0].Stdout))
			require.Equal(t, "root:", string(res.Results[1].Stdout))
			require.Equal(t, 1, c.SessionsOpened())
		})
	}
}

func TestBatchDetectsPrivilegeOnly(t *testing.T) {
	t.Parallel()
	s := setup(t)
	c := s.Dial(t, sshtest.UserSudo)
	res, err := c.Batch(context.Background(), nil, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	require.Equal(t, sshx.PrivSudo, res.Privilege)
	require.Empty(t, res.Results)

	_, err = c.Batch(context.Background(), nil, sshx.BatchOptions{Privileged: true, SudoPassword: "a\nb"})
	require.Error(t, err)
}

func TestBatchPrivilegeDenied(t *testing.T) {
	t.Parallel()
	s := setup(t)
	cmds := []sshx.Command{{Name: "uid", Script: "id -u"}}
	pwUser := s.User(sshtest.UserSudoPassword)
	cases := []struct {
		name string
		kind sshtest.UserKind
		opts sshx.BatchOptions
	}{
		{"sudo password not allowed", sshtest.UserSudoPassword, sshx.BatchOptions{SudoPassword: pwUser.Password}},
		{"wrong sudo password", sshtest.UserSudoPassword, sshx.BatchOptions{AllowSudoPassword: true, SudoPassword: "wrong"}},
		{"no sudo rights", sshtest.UserPlain, sshx.BatchOptions{AllowSudoPassword: true, SudoPassword: "x"}},
		{"no sudo rights, no password", sshtest.UserPlain, sshx.BatchOptions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Dial(t, tc.kind)
			o := tc.opts
			o.Privileged = true
			res, err := c.Batch(context.Background(), cmds, o)
			require.ErrorIs(t, err, sshx.ErrPrivilegeDenied)
			require.Equal(t, sshx.TypePrivilegeDenied, sshx.ErrorType(err))
			require.Equal(t, sshx.PrivNone, res.Privilege)
			require.Equal(t, 1, res.Sessions)
		})
	}
	t.Run("fallback runs unprivileged", func(t *testing.T) {
		c := s.Dial(t, sshtest.UserPlain)
		res, err := c.Batch(context.Background(), cmds, sshx.BatchOptions{Privileged: true, FallbackUnprivileged: true})
		require.NoError(t, err)
		require.Equal(t, sshx.PrivNone, res.Privilege)
		require.NotEqual(t, "0\n", string(res.Results[0].Stdout))
	})
}

// TestSudoPasswordNeverInScript proves the password travels only over stdin:
// the remote command line, visible in the process list, never contains it,
// and a privileged command sees neither it in its own argv nor environment.
func TestSudoPasswordNeverInScript(t *testing.T) {
	t.Parallel()
	s := setup(t)
	u := s.User(sshtest.UserSudoPassword)
	c := s.Dial(t, sshtest.UserSudoPassword)
	cmds := []sshx.Command{
		{Name: "ps", Script: "ps -eo args"},
		{Name: "env", Script: "env"},
		{Name: "stdin", Script: "cat"},
	}
	res, err := c.Batch(context.Background(), cmds, sshx.BatchOptions{
		Privileged: true, AllowSudoPassword: true, SudoPassword: u.Password,
	})
	require.NoError(t, err)
	require.Equal(t, sshx.PrivSudoPassword, res.Privilege)
	require.Contains(t, string(res.Results[0].Stdout), "sudo -S -p")
	for _, r := range res.Results {
		require.NotContains(t, string(r.Stdout), u.Password, r.Name)
	}
	require.NotContains(t, sshx.ScriptForTest(cmds, sshx.BatchOptions{
		Privileged: true, AllowSudoPassword: true, SudoPassword: u.Password,
	}), u.Password)
}

func TestBatchUnprivilegedReportsRoot(t *testing.T) {
	t.Parallel()
	s := setup(t)
	res, err := s.Dial(t, sshtest.UserRoot).Batch(context.Background(),
		[]sshx.Command{{Name: "uid", Script: "id -u"}}, sshx.BatchOptions{})
	require.NoError(t, err)
	require.Equal(t, sshx.PrivRoot, res.Privilege)
	res, err = s.Dial(t, sshtest.UserSudo).Batch(context.Background(),
		[]sshx.Command{{Name: "uid", Script: "id -u"}}, sshx.BatchOptions{})
	require.NoError(t, err)
	require.Equal(t, sshx.PrivUnknown, res.Privilege)
	require.NotEqual(t, "0\n", string(res.Results[0].Stdout))
}

func TestBanner(t *testing.T) {
	t.Parallel()
	s := setup(t)
	banner, elapsed, err := sshx.Loopback().Banner(context.Background(), s.Addr, 5*time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(banner, "SSH-2.0-OpenSSH"), banner)
	require.Positive(t, elapsed)

	_, _, err = sshx.Loopback().Banner(context.Background(), closedPort(t), time.Second)
	require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err), fmt.Sprint(err))

	_, _, err = sshx.Loopback().Banner(context.Background(), fakeServer(t, "220 smtp ready\r\n"), time.Second)
	require.Equal(t, sshx.TypeProtocol, sshx.ErrorType(err), fmt.Sprint(err))

	banner, _, err = sshx.Loopback().Banner(context.Background(), fakeServer(t, "hello first\r\nSSH-2.0-Fake_1.0\r\n"), time.Second)
	require.NoError(t, err)
	require.Equal(t, "SSH-2.0-Fake_1.0", banner)

	_, _, err = sshx.Loopback().Banner(context.Background(), fakeServer(t, ""), 100*time.Millisecond)
	require.Equal(t, sshx.TypeTimeout, sshx.ErrorType(err), fmt.Sprint(err))
}

func TestServerOnOtherLoopbackAddress(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.3"})
	require.Equal(t, "127.0.0.3", s.Host)
	r, err := s.Dial(t, sshtest.UserSudo).Run(context.Background(), "echo $SSH_CONNECTION")
	require.NoError(t, err)
	require.Contains(t, string(r.Stdout), "127.0.0.3")
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	require.Equal(t, "", sshx.ErrorType(nil))
	require.Equal(t, sshx.TypeUnknown, sshx.ErrorType(fmt.Errorf("boom")))
	require.Equal(t, sshx.TypeDNS, sshx.ErrorType(&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}))
	require.Equal(t, sshx.TypeTimeout, sshx.ErrorType(context.DeadlineExceeded))
}

func otherKey(t *testing.T) []byte {
	t.Helper()
	return sshtest.NewPrivateKey(t)
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// fakeServer accepts connections, writes greeting and keeps them open until
// the test ends.
func fakeServer(t *testing.T, greeting string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = conn.Write([]byte(greeting))
				<-done
				_ = conn.Close()
			}()
		}
	}()
	return l.Addr().String()
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// recordingDial records the addresses it is asked to dial and dials them.
type recordingDial struct {
	mu    sync.Mutex
	addrs []string
}

func (r *recordingDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.addrs = append(r.addrs, addr)
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (r *recordingDial) dialled() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...)
}

// TestDialerRefusesBeforeDialling shows an address outside the dialer's networks (however
// written) never reaches the dial function, fails with not_allowed and is counted, for
// banner probes and logins alike.
func TestDialerRefusesBeforeDialling(t *testing.T) {
	t.Parallel()
	rec := &recordingDial{}
	d := sshx.NewDialer(sshx.LoopbackNetworks(), rec.dial)
	anyKey := sshx.HostKeyFunc(func(context.Context, string, ssh.PublicKey) error { return nil })
	outside := []string{"10.0.0.1:22", "192.0.2.7:22", "[::ffff:10.0.0.1]:22", "[2001:db8::1]:22", "[fe80::1%lo]:22"}
	for _, addr := range outside {
		_, _, err := d.Banner(context.Background(), addr, time.Second)
		require.ErrorIs(t, err, sshx.ErrNotAllowed, addr)
		require.Equal(t, sshx.TypeNotAllowed, sshx.ErrorType(err))
		require.Contains(t, err.Error(), "127.0.0.0/8, ::1/128")
		_, err = d.Dial(context.Background(), addr, sshx.Auth{Username: "u", Password: "p"}, sshx.Options{HostKeys: anyKey})
		require.ErrorIs(t, err, sshx.ErrNotAllowed, addr)
	}
	require.EqualValues(t, 2*len(outside), d.Blocked())
	require.Empty(t, rec.dialled())

	// Loopback goes through the dial function (to a closed port here) and is not counted.
	closed := closedPort(t)
	_, _, err := d.Banner(context.Background(), closed, time.Second)
	require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err), fmt.Sprint(err))
	require.Equal(t, []string{closed}, rec.dialled())
	require.EqualValues(t, 2*len(outside), d.Blocked())
	require.True(t, d.Allows(netip.MustParseAddr("::ffff:127.0.0.9")))
	require.True(t, d.Allows(netip.MustParseAddr("::1")))

	// A dialer without networks reaches nothing; every network allows any address.
	_, _, err = sshx.NewDialer(nil, rec.dial).Banner(context.Background(), closed, time.Second)
	require.ErrorIs(t, err, sshx.ErrNotAllowed)
	all := sshx.NewDialer(sshx.AllNetworks(), nil)
	require.True(t, all.Allows(netip.MustParseAddr("192.0.2.7")))
	require.True(t, all.Allows(netip.MustParseAddr("fe80::1%eth0")))
}

// TestDialerResolvesNames dials a host name's allowed addresses only.
func TestDialerResolvesNames(t *testing.T) {
	t.Parallel()
	s := setup(t)
	rec := &recordingDial{}
	banner, _, err := sshx.NewDialer(sshx.LoopbackNetworks(), rec.dial).Banner(context.Background(),
		net.JoinHostPort("localhost", strconv.Itoa(s.Port)), 5*time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(banner, "SSH-2.0-"), banner)
	require.NotEmpty(t, rec.dialled())

	d := sshx.NewDialer([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, rec.dial)
	_, _, err = d.Banner(context.Background(), net.JoinHostPort("localhost", strconv.Itoa(s.Port)), time.Second)
	require.ErrorIs(t, err, sshx.ErrNotAllowed, "localhost resolves to loopback only")
	require.EqualValues(t, 1, d.Blocked())
}
