package sshtest_test

import (
	"context"
	"net"
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
