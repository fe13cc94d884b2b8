package sshtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestFakeProcSysAndTmpfs: sysctl -w on the target changes the fake /proc/sys, never the
// kernel; a remount of the namespace's tmpfs leaves the machine's mount as it was.
func TestFakeProcSysAndTmpfs(t *testing.T) {
	t.Parallel()
	kernel, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	require.NoError(t, err)
	shm := mountOptions(t, "/dev/shm")
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.42",
		Sysctl: map[string]string{"kernel.randomize_va_space": "0"}, Tmpfs: []string{"/dev/shm"}})
	c := s.Dial(t, sshtest.UserRoot)
	res, err := c.Batch(context.Background(), []sshx.Command{
		{Name: "read", Script: "sysctl -n kernel.randomize_va_space"},
		{Name: "write", Script: "sysctl -q -w kernel.randomize_va_space=1 && sysctl -n kernel.randomize_va_space"},
		{Name: "other keys", Script: "ls /proc/sys"},
		{Name: "remount", Script: "mount -o remount,nodev,noexec /dev/shm && awk '$2 == \"/dev/shm\" { print $4 }' /proc/self/mounts"},
	}, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	for _, r := range res.Results {
		require.True(t, r.OK(), "%s: %s", r.Name, r.Stderr)
	}
	require.Equal(t, "0\n", string(res.Results[0].Stdout))
	require.Equal(t, "1\n", string(res.Results[1].Stdout))
	require.Equal(t, "kernel\n", string(res.Results[2].Stdout))
	require.Contains(t, string(res.Results[3].Stdout), "nodev")

	after, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	require.NoError(t, err)
	require.Equal(t, string(kernel), string(after), "the kernel's parameter changed")
	require.Equal(t, shm, mountOptions(t, "/dev/shm"), "the machine's /dev/shm was remounted")
}

func mountOptions(t *testing.T, point string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mounts")
	require.NoError(t, err)
	var opts string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[1] == point {
			opts = f[3]
		}
	}
	return opts
}
