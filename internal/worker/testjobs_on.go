//go:build openwatchtest

package worker

import (
	"github.com/riverqueue/river"

	"github.com/openwatch/openwatch/internal/worker/testjobs"
)

// addTestJobs registers the test-only job kinds: this binary was built for tests.
func addTestJobs(w *river.Workers) { testjobs.Register(w) }
