package system

import (
	"context"
	"time"
)

// Check is one readiness check. Run answers whether the check passed and one sentence
// about it; the sentence is shown to anonymous callers, so it never carries addresses,
// credentials or error text (log those instead).
type Check struct {
	Name string
	Run  func(ctx context.Context) (ok bool, detail string)
}

// CheckResult is a check's outcome.
type CheckResult struct {
	Name   string
	OK     bool
	Detail string
}

// Readiness runs the checks that say whether this process should get traffic: the
// database answers, the schema is current, a worker is alive and, for the managed
// database, its server runs.
type Readiness struct {
	checks  []Check
	timeout time.Duration
}

// checkTimeout bounds each check, so a hung database answers "not ready" instead of
// holding the probe.
const checkTimeout = 2 * time.Second

// NewReadiness returns the readiness of the checks, run in order.
func NewReadiness(checks ...Check) *Readiness {
	return &Readiness{checks: checks, timeout: checkTimeout}
}

// Run runs every check (each bounded by a timeout) and reports whether all passed.
func (r *Readiness) Run(ctx context.Context) (ready bool, results []CheckResult) {
	ready = true
	results = make([]CheckResult, 0, len(r.checks))
	for _, c := range r.checks {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		ok, detail := c.Run(cctx)
		cancel()
		results = append(results, CheckResult{Name: c.Name, OK: ok, Detail: detail})
		ready = ready && ok
	}
	return ready, results
}
