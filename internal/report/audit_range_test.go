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

	api "github.com/openwatch/openwatch/gen/api"
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

	res := call(env, admin, http.MethodPost, "reports/schedules", map[string]any{"name": "daily audit", "kind": "audit",
		"cron": "0 1 * * *", "timezone": "UTC"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sc api.ReportSchedule
	res.Decode(t, &sc)

	appendEvents(t, env, 600)
	// The schedule's next run cannot request its report: the schedule says why.
	_, err := env.App.Pool.Exec(context.Background(), `UPDATE report_schedules SET next_run_at = now() WHERE id = $1`, sc.Id)
	require.NoError(t, err)
	n, err := env.App.Reports.RunDue(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	res = call(env, admin, http.MethodGet, "reports/schedules", nil)
	var page api.ReportSchedulePage
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	require.NotNil(t, page.Items[0].LastRunAt)
	require.Nil(t, page.Items[0].LastReportId)
	require.NotNil(t, page.Items[0].LastError)
	require.Contains(t, *page.Items[0].LastError, fmt.Sprintf("The report could not be requested: The range holds more than %d audit events", limit))
	require.True(t, page.Items[0].NextRunAt.After(time.Now()))

	res = call(env, admin, http.MethodPost, "reports:generate", map[string]any{"kind": "audit",
		"parameters": map[string]any{"since": since.Format(time.RFC3339Nano)}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), fmt.Sprintf("The range holds more than %d audit events, the most an audit report holds", limit))
	require.Contains(t, string(res.Body), `"max_events":2600`)
	require.Contains(t, string(res.Body), `"field":"parameters.since"`)

	// A range within the limit is still accepted.
	until := time.Now().UTC()
	res = call(env, admin, http.MethodPost, "reports:generate", map[string]any{"kind": "audit",
		"parameters": map[string]any{"since": until.Add(-time.Minute).Format(time.RFC3339Nano), "until": since.Add(time.Second / 2).Format(time.RFC3339Nano)}})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
}
