package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/report"
)

// appendEvents writes n chained audit events.
func appendEvents(t *testing.T, env *apitest.Env, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pg.WithTx(ctx, env.App.Pool, func(tx pgx.Tx) error {
		for i := range n {
			if err := env.App.Audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionReportGenerated, "report",
				fmt.Sprintf("bulk-%d", i), map[string]any{"i": i})); err != nil {
				return err
			}
		}
		return nil
	}))
}

// TestAuditReportRange: an audit report of a range holding more events than one batch
// (1000) holds every event once, in chain order, with a verified chain; a range holding
// more than the limit is refused with a 400 naming it, before any job runs.
func TestAuditReportRange(t *testing.T) {
	t.Parallel()
	const limit = 2600
	env := apitest.New(t, func(d *app.Deps) { d.ReportMaxAuditEvents = limit })
	admin := env.Admin()
	since := time.Now().UTC().Add(-time.Second)
	appendEvents(t, env, 2100)

	r := generate(t, env, admin, map[string]any{"kind": "audit", "parameters": map[string]any{"since": since.Format(time.RFC3339Nano)}})
	var doc struct {
		Report report.Document `json:"report"`
	}
	require.NoError(t, json.Unmarshal(export(t, env, admin, r.Id, "json"), &doc))
	a := doc.Report.Audit
	require.NotNil(t, a)
	require.True(t, a.Verification.OK)
	bulk := 0
	for i, e := range a.Events {
		if i > 0 {
			require.Greater(t, e.Seq, a.Events[i-1].Seq, "chain order, each event once")
			require.Equal(t, a.Events[i-1].Hash, e.PrevHash, "consecutive events are chained")
		}
		if e.ResourceType == "report" && len(e.ResourceID) > 5 && e.ResourceID[:5] == "bulk-" {
			require.Equal(t, fmt.Sprintf("bulk-%d", bulk), e.ResourceID)
			bulk++
		}
	}
	require.Equal(t, 2100, bulk, "every event of the range, across batches")
	require.Equal(t, int64(len(a.Events)), *doc.Report.Summary.Events)

	appendEvents(t, env, 600)
	res := call(env, admin, http.MethodPost, "reports:generate", map[string]any{"kind": "audit",
		"parameters": map[string]any{"since": since.Format(time.RFC3339Nano)}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), fmt.Sprintf("an audit report holds at most %d", limit))
	require.Contains(t, string(res.Body), `"max_events":2600`)
	require.Contains(t, string(res.Body), `"field":"parameters.since"`)

	// A range within the limit is still accepted.
	until := time.Now().UTC()
	res = call(env, admin, http.MethodPost, "reports:generate", map[string]any{"kind": "audit",
		"parameters": map[string]any{"since": until.Add(-time.Minute).Format(time.RFC3339Nano), "until": since.Add(time.Second / 2).Format(time.RFC3339Nano)}})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
}
