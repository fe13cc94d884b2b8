package sshtest_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

func TestFarmBanners(t *testing.T) {
	t.Parallel()
	addrs := sshtest.Farm(t, 450)
	require.Len(t, addrs, 450)
	hosts := map[string]bool{}
	seen := map[string]bool{}
	for _, a := range addrs {
		require.False(t, seen[a], "duplicate %s", a)
		seen[a] = true
		host, _, err := net.SplitHostPort(a)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(host, "127.77."), host)
		hosts[host] = true
	}
	require.Len(t, hosts, 3)
	for _, a := range []string{addrs[0], addrs[449]} {
		banner, _, err := sshx.Loopback().Banner(context.Background(), a, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, sshtest.FarmBanner, banner)
	}
}

func TestFarmHandshake(t *testing.T) {
	t.Parallel()
	fleet := sshtest.FarmWith(t, 3, sshtest.FarmOptions{Handshake: true})
	c, err := sshx.Loopback().Dial(context.Background(), fleet.Addrs[2], fleet.Auth, sshx.Options{HostKeys: fleet.HostKeys()})
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	res, err := c.Batch(context.Background(), []sshx.Command{
		{Name: "echo", Script: "echo hi"},
		{Name: "fail", Script: "exit 4"},
	}, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	require.Equal(t, sshx.PrivRoot, res.Privilege)
	require.Equal(t, "hi\n", string(res.Results[0].Stdout))
	require.Equal(t, 4, res.Results[1].ExitCode)

	bad := fleet.Auth
	bad.PrivateKey = sshtest.NewPrivateKey(t)
	_, err = sshx.Loopback().Dial(context.Background(), fleet.Addrs[0], bad, sshx.Options{HostKeys: fleet.HostKeys()})
	require.Equal(t, sshx.TypeAuthFailed, sshx.ErrorType(err))
}

func TestServerStopRestart(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.2"})
	port := s.Port
	_, _, err := sshx.Loopback().Banner(context.Background(), s.Addr, 5*time.Second)
	require.NoError(t, err)
	s.Stop()
	_, _, err = sshx.Loopback().Banner(context.Background(), s.Addr, 5*time.Second)
	require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err))
	s.Restart()
	require.Equal(t, port, s.Port)
	banner, _, err := sshx.Loopback().Banner(context.Background(), s.Addr, 5*time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(banner, "SSH-2.0-OpenSSH"), banner)
	for _, kind := range []sshtest.UserKind{sshtest.UserSudo, sshtest.UserSudoPassword, sshtest.UserPlain, sshtest.UserRoot} {
		u := s.User(kind)
		require.NotEmpty(t, u.Name)
		r, err := s.Dial(t, kind).Run(context.Background(), "id -un")
		require.NoError(t, err)
		require.Equal(t, u.Name+"\n", string(r.Stdout))
	}
}

// TestOverlayKeepsChangesInside: a session changes /etc through the overlay; the machine's
// /etc never sees it, and another server (another namespace) does not either.
func TestOverlayKeepsChangesInside(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.3", Overlay: []string{"/etc"}})
	c := s.Dial(t, sshtest.UserRoot)
	name := fmt.Sprintf("/etc/openwatch-overlay-test-%d", time.Now().UnixNano())
	res, err := c.Batch(context.Background(), []sshx.Command{
		{Name: "write", Script: "echo changed > " + name + " && cat " + name},
		{Name: "passwd still readable", Script: "grep -c '^root:' /etc/passwd"},
	}, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	require.Equal(t, "changed\n", string(res.Results[0].Stdout))
	require.Equal(t, "1\n", string(res.Results[1].Stdout))
	_, err = os.Stat(name)
	require.True(t, os.IsNotExist(err), "the machine's /etc was changed: %v", err)

	again, err := c.Run(context.Background(), "cat "+name)
	require.NoError(t, err)
	require.Equal(t, "changed\n", string(again.Stdout), "a second session sees the change")

	other := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.4", Overlay: []string{"/etc"}})
	res2, err := other.Dial(t, sshtest.UserRoot).Run(context.Background(), "test -e "+name+"; echo $?")
	require.NoError(t, err)
	require.Equal(t, "1\n", string(res2.Stdout))
}
