package engine_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestScanDebianTarget runs the whole corpus against the test machine's sshd (a Debian 12
// host) as one program: one session, the host recognised, at least 220 rules evaluated
// (pass or fail), and no rule left unchecked (error) for want of something the engine
// should handle.
func TestScanDebianTarget(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.7"})
	c := s.Dial(t, sshtest.UserRoot)
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	scan, err := engine.Run(context.Background(), engine.ClientRunner(c), corpus.All(), engine.Options{})
	require.NoError(t, err)
	require.Equal(t, "debian", scan.Host.Family)
	require.Equal(t, rule.Version("12"), scan.Host.Version)
	require.Equal(t, 1, scan.Sessions)
	require.Len(t, scan.Results, corpus.Len())

	counts := scan.Counts()
	var problems []string
	for _, r := range scan.Results {
		if r.Status == engine.StatusError {
			problems = append(problems, fmt.Sprintf("%s: %s", r.RuleID, r.Reason))
		}
		if !r.Applicable {
			require.Equal(t, engine.StatusSkipped, r.Status, r.RuleID)
		}
	}
	sort.Strings(problems)
	require.Empty(t, problems, "rules the engine could not check:\n%s", strings.Join(problems, "\n"))
	require.GreaterOrEqual(t, counts[engine.StatusPass]+counts[engine.StatusFail], 220, "%v", counts)
	t.Logf("%d rules: %v; %d records in %s", len(scan.Results), counts, scan.Records, scan.Duration)
}
