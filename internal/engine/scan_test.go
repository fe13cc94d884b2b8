package engine_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

func TestScanSmoke(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	c := s.Dial(t, sshtest.UserRoot)
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	scan, err := engine.Run(context.Background(), engine.ClientRunner(c), corpus.All(), engine.Options{})
	require.NoError(t, err)
	t.Logf("host %+v sessions %d records %d duration %s counts %v", scan.Host, scan.Sessions, scan.Records, scan.Duration, scan.Counts())
	reasons := map[string]int{}
	for _, r := range scan.Results {
		if r.Status == engine.StatusError || r.Status == engine.StatusSkipped {
			reasons[string(r.Status)+": "+r.Reason]++
		}
	}
	var keys []string
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Println(reasons[k], k)
	}
}
