package metrics_test

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
)

// dashboardFile is the Grafana dashboard shipped in the repository.
const dashboardFile = "../../packaging/grafana/openwatch.json"

// metricName finds the series names a PromQL expression reads (ours and the client
// library's Go and process collectors).
var metricName = regexp.MustCompile(`\b(?:openwatch|go|process)_[a-z0-9_]+\b`)

// TestDashboardQueriesOnlyExportedMetrics fails when the dashboard queries a series the
// application does not export (a renamed metric, a typo).
func TestDashboardQueriesOnlyExportedMetrics(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	var exprs []string
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}

	exported := exportedSeries(t)
	queried := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			queried[name] = true
		}
	}
	require.NotEmpty(t, queried)
	var unknown []string
	for name := range queried {
		if !exported[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	require.Empty(t, unknown, "the dashboard queries series nobody exports")

	// Every openwatch family is on the dashboard.
	var missing []string
	for name := range exported {
		if strings.HasPrefix(name, "openwatch_") && !strings.HasSuffix(name, "_sum") && !queried[name] &&
			!queried[name+"_bucket"] && !queried[name+"_count"] && !queried[strings.TrimSuffix(name, "_count")+"_bucket"] &&
			!queried[strings.TrimSuffix(name, "_bucket")+"_count"] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "exported families the dashboard does not show")
}

// exportedSeries gathers a running application's registry, with one observation in each
// labelled family (a family with no series yet is not gathered), and returns every series
// name a query can use: histograms as _bucket, _count and _sum.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	env := apitest.New(t)
	m := env.App.Metrics
	m.ObserveHTTP("getHealth", 200, time.Millisecond)
	m.Dialed("")
	m.SessionOpened(true)
	m.ScanFinished(time.Second, 10, true)
	m.Delivered("webhook", true)
	m.JobWorked("worker_ping", time.Millisecond, errors.New("x"))
	later, laterOpts := pingLater()
	_, err := env.App.Jobs.Insert(t.Context(), later, laterOpts)
	require.NoError(t, err)
	families, err := m.Registry.Gather()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			out[name+"_bucket"], out[name+"_count"], out[name+"_sum"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[name], out[name+"_count"], out[name+"_sum"] = true, true, true
		default:
			out[name] = true
		}
	}
	return out
}
