package liveness

import (
	"time"

	dbq "github.com/openwatch/openwatch/gen/db"
)

// The monitoring states.
const (
	StateOnline      = "online"
	StateDegraded    = "degraded"
	StateCritical    = "critical"
	StateDown        = "down"
	StateMaintenance = "maintenance"
	StateUnknown     = "unknown"
)

// The reachability statuses.
const (
	Reachable   = "reachable"
	Unreachable = "unreachable"
	// ReachUnknown is the status before any probe.
	ReachUnknown = "unknown"
)

// The probe layers, as named by failed_layer.
const (
	LayerPing      = "ping"
	LayerSSH       = "ssh"
	LayerPrivilege = "privilege"
)

// Probe is the outcome of one probe of a host.
type Probe struct {
	At time.Time
	// PingOK says whether the TCP connect and SSH banner succeeded; Banner is the line read.
	PingOK bool
	Banner string
	// ResponseMS is how long the banner took (or how long it was waited for).
	ResponseMS int
	// SSHOK and PrivilegeOK are nil when the layer did not run (no credential applies, or
	// an earlier layer failed).
	SSHOK       *bool
	PrivilegeOK *bool
	// Privilege is how commands got root, as learned by the login ("" when unknown).
	Privilege string
	// FailedLayer, ErrorType and ErrorMessage describe the first layer that failed.
	FailedLayer  string
	ErrorType    string
	ErrorMessage string
}

// OK reports whether every layer that ran succeeded.
func (p *Probe) OK() bool {
	return p.PingOK && (p.SSHOK == nil || *p.SSHOK) && (p.PrivilegeOK == nil || *p.PrivilegeOK)
}

// counters are a host's consecutive failure and success counts.
type counters struct {
	failures                    int32
	pingFailures, pingSuccesses int32
	sshFailures, sshSuccesses   int32
	privFailures, privSuccesses int32
}

func countersOf(r dbq.LivenessClaimDueRow) counters {
	return counters{
		failures:     r.ConsecutiveFailures,
		pingFailures: r.PingConsecutiveFailures, pingSuccesses: r.PingConsecutiveSuccesses,
		sshFailures: r.SshConsecutiveFailures, sshSuccesses: r.SshConsecutiveSuccesses,
		privFailures: r.PrivilegeConsecutiveFailures, privSuccesses: r.PrivilegeConsecutiveSuccesses,
	}
}

// count adds one layer result to its pair of counters; a layer that did not run leaves
// them as they are.
func count(failures, successes *int32, ok *bool) {
	switch {
	case ok == nil:
	case *ok:
		*successes++
		*failures = 0
	default:
		*failures++
		*successes = 0
	}
}

// verdict is what a probe (or a maintenance mark) makes of a host.
type verdict struct {
	state        string
	reachability string
	c            counters
}

// judge applies the hysteresis: p (nil when the host was not probed) updates the counters
// of cur, and the counters decide the state. A host in maintenance is in state
// maintenance whatever the probe says; it keeps its reachability unless probed.
func judge(cur dbq.LivenessClaimDueRow, p *Probe, maintenance bool, threshold int) verdict {
	v := verdict{state: StateMaintenance, reachability: cur.ReachabilityStatus, c: countersOf(cur)}
	if p == nil {
		return v
	}
	ping := p.PingOK
	count(&v.c.pingFailures, &v.c.pingSuccesses, &ping)
	count(&v.c.sshFailures, &v.c.sshSuccesses, p.SSHOK)
	count(&v.c.privFailures, &v.c.privSuccesses, p.PrivilegeOK)
	if p.OK() {
		v.c.failures = 0
	} else {
		v.c.failures++
	}
	v.reachability = Unreachable
	if p.PingOK {
		v.reachability = Reachable
	}
	switch {
	case maintenance:
	case !p.PingOK && int(v.c.pingFailures) >= threshold:
		v.state = StateDown
	case !p.PingOK:
		v.state = StateCritical
	case !p.OK():
		v.state = StateDegraded
	default:
		v.state = StateOnline
	}
	return v
}
