package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestCapabilityProbe: the exported probe names every capability and reads as a scan
// reads it.
func TestCapabilityProbe(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]bool{"apt": true, "dnf": false}, engine.ParseCapabilities([]byte("apt=1\ndnf=0\n")))
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.43"})
	c := s.Dial(t, sshtest.UserRoot)
	br, err := c.Batch(context.Background(), []sshx.Command{engine.CapabilityCommand()}, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	caps := engine.ParseCapabilities(br.Results[0].Stdout)
	require.Len(t, caps, len(rule.Capabilities))
	require.True(t, caps["apt"], "this machine is Debian")
	scan, err := engine.Run(context.Background(), engine.ClientRunner(c), nil, engine.Options{})
	require.NoError(t, err)
	require.Equal(t, scan.Host.Capabilities, caps)
}
