//go:build !openwatchtest

package worker

import "github.com/riverqueue/river"

// addTestJobs does nothing: production binaries have no test job kinds.
func addTestJobs(*river.Workers) {}
