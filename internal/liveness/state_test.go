package liveness

import (
	"testing"

	"github.com/stretchr/testify/require"

	dbq "github.com/openwatch/openwatch/gen/db"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	ok := &Probe{PingOK: true}
	full := &Probe{PingOK: true, SSHOK: &yes, PrivilegeOK: &yes}
	noLogin := &Probe{PingOK: true, SSHOK: &no}
	noRoot := &Probe{PingOK: true, SSHOK: &yes, PrivilegeOK: &no}
	dead := &Probe{}
	fresh := dbq.LivenessClaimDueRow{MonitoringState: StateUnknown, ReachabilityStatus: ReachUnknown}

	// Walk one host through a sequence of probes with threshold 3.
	steps := []struct {
		p            *Probe
		maintenance  bool
		state, reach string
		pingFail     int32
		failures     int32
	}{
		{full, false, StateOnline, Reachable, 0, 0},
		{noLogin, false, StateDegraded, Reachable, 0, 1},
		{noRoot, false, StateDegraded, Reachable, 0, 2},
		{dead, false, StateCritical, Unreachable, 1, 3},
		{dead, false, StateCritical, Unreachable, 2, 4},
		{dead, false, StateDown, Unreachable, 3, 5},
		{dead, false, StateDown, Unreachable, 4, 6},
		{ok, false, StateOnline, Reachable, 0, 0},
		{dead, true, StateMaintenance, Unreachable, 1, 1},
		{nil, true, StateMaintenance, Unreachable, 1, 1},
		{ok, false, StateOnline, Reachable, 0, 0},
	}
	cur := fresh
	for i, s := range steps {
		v := judge(cur, s.p, s.maintenance, 3)
		require.Equal(t, s.state, v.state, "step %d", i)
		require.Equal(t, s.reach, v.reachability, "step %d", i)
		require.Equal(t, s.pingFail, v.c.pingFailures, "step %d", i)
		require.Equal(t, s.failures, v.c.failures, "step %d", i)
		cur = dbq.LivenessClaimDueRow{MonitoringState: v.state, ReachabilityStatus: v.reachability,
			ConsecutiveFailures: v.c.failures, PingConsecutiveFailures: v.c.pingFailures, PingConsecutiveSuccesses: v.c.pingSuccesses,
			SshConsecutiveFailures: v.c.sshFailures, SshConsecutiveSuccesses: v.c.sshSuccesses,
			PrivilegeConsecutiveFailures: v.c.privFailures, PrivilegeConsecutiveSuccesses: v.c.privSuccesses}
	}

	// Layers that did not run leave their counters alone.
	v := judge(dbq.LivenessClaimDueRow{SshConsecutiveFailures: 2, PrivilegeConsecutiveSuccesses: 4}, dead, false, 3)
	require.Equal(t, int32(2), v.c.sshFailures)
	require.Equal(t, int32(4), v.c.privSuccesses)
	v = judge(dbq.LivenessClaimDueRow{SshConsecutiveFailures: 2}, full, false, 3)
	require.Equal(t, counters{failures: 0, pingSuccesses: 1, sshSuccesses: 1, privSuccesses: 1}, v.c)

	// A threshold of 1 makes the first banner failure down.
	require.Equal(t, StateDown, judge(fresh, dead, false, 1).state)
	// An unprobed host entering maintenance keeps its reachability.
	require.Equal(t, ReachUnknown, judge(fresh, nil, true, 3).reachability)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultConfig.Validate())
	bad := DefaultConfig
	bad.OnlineSec = 59
	require.ErrorContains(t, bad.Validate(), "online_sec must be between 60 and 86400")
	bad = DefaultConfig
	bad.RateLimit = 201
	require.ErrorContains(t, bad.Validate(), "rate_limit must be between 1 and 200")
	bad = DefaultConfig
	bad.TimeoutSec = 0
	require.ErrorContains(t, bad.Validate(), "timeout_sec")
}
