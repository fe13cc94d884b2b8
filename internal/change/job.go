package change

// The kinds of change job.
const (
	KindPatch       = "patch"
	KindRemediation = "remediation"
)

// The statuses of a job.
const (
	JobPendingApproval = "pending_approval"
	JobApproved        = "approved"
	JobRejected        = "rejected"
	JobRunning         = "running"
	JobHalted          = "halted"
	JobCompleted       = "completed"
	JobFailed          = "failed"
	JobCancelled       = "cancelled"
	JobRollingBack     = "rolling_back"
	JobRolledBack      = "rolled_back"
)

// The statuses of a host of a job.
const (
	HostPending        = "pending"
	HostQueued         = "queued"
	HostWaitingWindow  = "waiting_window"
	HostRunning        = "running"
	HostSucceeded      = "succeeded"
	HostFailed         = "failed"
	HostRolledBack     = "rolled_back"
	HostRollbackFailed = "rollback_failed"
	HostCancelled      = "cancelled"
	HostSkipped        = "skipped"
)

// The phases of a host's change, also the phases of its steps.
const (
	PhasePrecheck  = "precheck"
	PhaseCapture   = "capture"
	PhaseDryRun    = "dry_run"
	PhaseApply     = "apply"
	PhaseReboot    = "reboot"
	PhasePostcheck = "postcheck"
	PhaseRollback  = "rollback"
	PhaseVerify    = "verify"
)

// The reboot policies.
const (
	RebootNever      = "never"
	RebootIfRequired = "if_required"
	RebootAlways     = "always"
)

// WaveSizes splits n hosts into waves: the canary (canary hosts, or canaryPercent of n
// rounded up when canaryPercent > 0; at least 1, at most n), then each wave growth times
// the one before, the last taking what is left.
func WaveSizes(n, canary, canaryPercent, growth int) []int {
	if n <= 0 {
		return nil
	}
	size := canary
	if canaryPercent > 0 {
		size = (n*canaryPercent + 99) / 100
	}
	size = max(1, min(size, n))
	growth = max(1, growth)
	var sizes []int
	for left := n; left > 0; {
		s := min(size, left)
		sizes = append(sizes, s)
		left -= s
		size *= growth
	}
	return sizes
}

// Budget returns how many failed hosts halt a rollout of total hosts: maxFailures, or
// maxPercent of total rounded up (at least 1), whichever is smaller when both are set;
// 1 when neither is.
func Budget(total int, maxFailures, maxPercent *int32) int {
	b := 0
	if maxFailures != nil {
		b = int(*maxFailures)
	}
	if maxPercent != nil {
		p := max(1, (total*int(*maxPercent)+99)/100)
		if b == 0 || p < b {
			b = p
		}
	}
	if b == 0 {
		b = 1
	}
	return b
}
