package scan_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
)

// hostCompliance reads every page of GET /hosts/{id}/compliance with the given query
// (pages of limit items) and returns the items and the first page's answer.
func (f *fixture) hostCompliance(id uuid.UUID, query url.Values, limit int) ([]api.HostRuleResult, api.HostCompliance) {
	f.t.Helper()
	var items []api.HostRuleResult
	var first api.HostCompliance
	cur := ""
	for i := 0; ; i++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(limit))
		if cur != "" {
			q.Set("cursor", cur)
		}
		res := f.do(f.admin, http.MethodGet, "hosts/"+id.String()+"/compliance?"+q.Encode(), nil)
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		var page api.HostCompliance
		res.Decode(f.t, &page)
		if i == 0 {
			first = page
		} else {
			require.Equal(f.t, first.Summary, page.Summary, "every page carries the same summary")
		}
		require.LessOrEqual(f.t, len(page.Items), limit)
		items = append(items, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cur = *page.NextCursor
	}
	for i := 1; i < len(items); i++ {
		require.Less(f.t, items[i-1].RuleId, items[i].RuleId, "items come by rule id, each once")
	}
	return items, first
}

// listSummary returns the compliance_summary of a host on GET /hosts (nil when absent).
func (f *fixture) listSummary(id uuid.UUID) *api.HostListComplianceSummary {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "hosts?limit=200", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var list api.HostListResponse
	res.Decode(f.t, &list)
	for _, h := range list.Hosts {
		if h.Id == id {
			return h.ComplianceSummary
		}
	}
	f.t.Fatalf("host %s is not on the list", id)
	return nil
}

func byRule(items []api.HostRuleResult) map[string]api.HostRuleResult {
	out := make(map[string]api.HostRuleResult, len(items))
	for _, it := range items {
		out[it.RuleId] = it
	}
	return out
}

func passingFraction(pass, fail int) float64 { return float64(pass) / float64(pass+fail) }

// TestHostComplianceThroughTheAPI scans the Debian target twice with a change made in
// between, and reads the host's compliance now and as of an instant between the scans,
// filtered and paged; the host list shows the summary once the host has results; the
// host's trend follows the scans.
func TestHostComplianceThroughTheAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.3")
	id := f.host("compliant")
	base := "hosts/" + id.String() + "/compliance"

	// Before any scan: no results, zeros, no score, and no summary on the host list (whose
	// page is now cached, so the scan below must clear it).
	items, page := f.hostCompliance(id, nil, 50)
	require.Empty(t, items)
	require.Equal(t, api.ComplianceCounts{}, page.Summary)
	require.Nil(t, page.Summary.PassingFraction)
	require.Nil(t, page.AsOf)
	require.Equal(t, "all", page.Framework)
	require.Equal(t, id, page.HostId)
	require.Nil(t, f.listSummary(id), "no summary before the first scan")

	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)
	first := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, first.Status, "%v", first.Error)
	require.Eventually(t, func() bool { return f.listSummary(id) != nil }, 10*time.Second, 20*time.Millisecond,
		"the cached host list never showed the scan")
	sum := f.listSummary(id)
	c1 := first.Counts
	require.Equal(t, api.HostListComplianceSummary{Passing: int64(c1.Pass), Failing: int64(c1.Fail), Skipped: int64(c1.Skipped),
		Error: int64(c1.Error), Total: int64(first.RulesTotal),
		CriticalFailing: int64(f.count(`SELECT critical_failing FROM host_compliance WHERE host_id = $1 AND framework = 'all'`, id))},
		*sum)
	listRes := f.do(f.admin, http.MethodGet, "hosts?limit=200", nil)
	require.Equal(t, http.StatusOK, listRes.Status, "%s", listRes.Body)
	var list api.HostListResponse
	listRes.Decode(t, &list)
	for _, h := range list.Hosts {
		if h.Id == id {
			require.NotNil(t, h.LastScanAt, "the completed scan is the host's last scan")
			require.WithinDuration(t, *first.FinishedAt, *h.LastScanAt, time.Second)
		}
	}

	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	second := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, second.Status, "%v", second.Error)
	require.Equal(t, 1, second.Changed)
	c2 := second.Counts
	require.Eventually(t, func() bool { return f.listSummary(id).Passing == int64(c2.Pass) }, 10*time.Second, 20*time.Millisecond,
		"the cached host list never showed the second scan")

	// Now: every result, in pages, adding up to the summary.
	items, page = f.hostCompliance(id, nil, 97)
	require.Len(t, items, second.RulesTotal)
	s := page.Summary
	require.Equal(t, int64(c2.Pass), s.Pass)
	require.Equal(t, int64(c2.Fail), s.Fail)
	require.Equal(t, int64(c2.Skipped), s.Skipped)
	require.Equal(t, int64(c2.Error), s.Error)
	require.NotNil(t, s.PassingFraction)
	require.InDelta(t, passingFraction(c2.Pass, c2.Fail), *s.PassingFraction, 1e-12)
	require.Nil(t, page.AsOf)
	counted := map[api.ResultStatus]int{}
	critical := 0
	for _, it := range items {
		counted[it.Status]++
		if it.Status == api.ResultStatusFail && it.Severity == api.RuleSeverityCritical {
			critical++
		}
		require.NotEmpty(t, it.Title)
		require.False(t, it.ChangedAt.Before(it.FirstSeenAt))
	}
	require.Equal(t, []int{c2.Pass, c2.Fail, c2.Skipped, c2.Error}, []int{counted[api.ResultStatusPass],
		counted[api.ResultStatusFail], counted[api.ResultStatusSkipped], counted[api.ResultStatusError]})
	require.Equal(t, int64(critical), s.CriticalFailing)
	now := byRule(items)
	changed := now[maxDaysRule]
	require.Equal(t, api.ResultStatusPass, changed.Status)
	require.Equal(t, second.Id, changed.ScanId)
	require.True(t, second.FinishedAt.Equal(changed.ChangedAt))
	require.True(t, first.FinishedAt.Equal(changed.FirstSeenAt))
	unchanged := now["ssh-disable-root-login"]
	require.Equal(t, first.Id, unchanged.ScanId, "an unchanged result names the scan that recorded it")
	require.True(t, first.FinishedAt.Equal(unchanged.ChangedAt))

	// As of an instant between the scans: the old status, from the first scan, and the
	// first scan's summary; its scan serves the evidence of what it found.
	between := first.FinishedAt.Add(second.FinishedAt.Sub(*first.FinishedAt) / 2)
	asOf := url.Values{"as_of": {between.UTC().Format(time.RFC3339Nano)}}
	items, page = f.hostCompliance(id, asOf, 200)
	require.Len(t, items, first.RulesTotal)
	require.NotNil(t, page.AsOf)
	require.True(t, between.Equal(*page.AsOf), "as_of is echoed")
	require.Equal(t, int64(c1.Pass), page.Summary.Pass)
	require.Equal(t, int64(c1.Fail), page.Summary.Fail)
	require.InDelta(t, passingFraction(c1.Pass, c1.Fail), *page.Summary.PassingFraction, 1e-12)
	then := byRule(items)[maxDaysRule]
	require.Equal(t, api.ResultStatusFail, then.Status)
	require.Equal(t, first.Id, then.ScanId)
	require.True(t, first.FinishedAt.Equal(then.ChangedAt))
	require.True(t, first.FinishedAt.Equal(then.FirstSeenAt))
	require.Equal(t, api.ResultStatusFail, f.evidence(then.ScanId, maxDaysRule).Status)
	for _, it := range items {
		if it.RuleId != maxDaysRule {
			require.Equal(t, now[it.RuleId], it, "only the changed rule differs")
		}
	}
	// As of the second scan's end: what is true now.
	items, _ = f.hostCompliance(id, url.Values{"as_of": {second.FinishedAt.UTC().Format(time.RFC3339Nano)}}, 200)
	require.Equal(t, now, byRule(items))
	// Before the first scan: nothing.
	items, page = f.hostCompliance(id, url.Values{"as_of": {"2001-01-01T00:00:00Z"}}, 50)
	require.Empty(t, items)
	require.Equal(t, api.ComplianceCounts{}, page.Summary)

	// Filters, now and then.
	items, _ = f.hostCompliance(id, url.Values{"status": {"fail"}}, 50)
	require.Len(t, items, c2.Fail)
	require.NotContains(t, byRule(items), maxDaysRule)
	items, _ = f.hostCompliance(id, url.Values{"status": {"fail"}, "as_of": asOf["as_of"]}, 50)
	require.Len(t, items, c1.Fail)
	require.Contains(t, byRule(items), maxDaysRule)
	items, _ = f.hostCompliance(id, url.Values{"status": {"fail"}, "severity": {"critical"}}, 50)
	require.Len(t, items, int(s.CriticalFailing))
	for _, it := range items {
		require.Equal(t, api.RuleSeverityCritical, it.Severity)
	}
	items, _ = f.hostCompliance(id, url.Values{"severity": {"high"}}, 50)
	require.NotEmpty(t, items)
	for _, it := range items {
		require.Equal(t, api.RuleSeverityHigh, it.Severity)
	}
	items, page = f.hostCompliance(id, url.Values{"framework": {"cis-ubuntu22"}}, 50)
	require.Equal(t, "cis-ubuntu22", page.Framework)
	cs := page.Summary
	require.Len(t, items, int(cs.Pass+cs.Fail+cs.Skipped+cs.Error))
	require.Positive(t, len(items))
	require.Less(t, len(items), second.RulesTotal)
	require.Equal(t, int64(f.count(`SELECT pass_count FROM host_compliance WHERE host_id = $1 AND framework = 'cis-ubuntu22'`, id)), cs.Pass)
	var rule api.RuleDetail
	res := f.do(f.admin, http.MethodGet, "rules/"+items[0].RuleId, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &rule)
	require.Contains(t, rule.Frameworks, "cis-ubuntu22")
	require.Equal(t, rule.Title, items[0].Title)

	// The trend: nothing before the first scan, then the second scan's counts.
	var tr api.ComplianceTrend
	until := second.FinishedAt.Add(time.Millisecond)
	res = f.do(f.admin, http.MethodGet, base+"/trend?"+url.Values{"interval": {"hour"},
		"since": {until.Add(-90 * time.Minute).UTC().Format(time.RFC3339Nano)}, "until": {until.UTC().Format(time.RFC3339Nano)}}.Encode(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &tr)
	require.Len(t, tr.Points, 2)
	require.Equal(t, api.CompliancePoint{At: tr.Points[0].At}, tr.Points[0])
	last := tr.Points[1]
	require.True(t, until.Equal(last.At))
	require.True(t, until.Add(-time.Hour).Equal(tr.Points[0].At))
	require.Equal(t, []int64{int64(c2.Pass), int64(c2.Fail), int64(c2.Skipped), int64(c2.Error)}, []int64{last.Pass, last.Fail, last.Skipped, last.Error})

	// What a request may get wrong.
	for _, tc := range []struct{ query, field string }{
		{"framework=cis-windows", "framework"},
		{"cursor=nope", "cursor"},
		{"as_of=" + url.QueryEscape(between.Format(time.RFC3339Nano)) + "&framework=nope", "framework"},
	} {
		res := f.do(f.admin, http.MethodGet, base+"?"+tc.query, nil)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.query, res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], "%s: %s", tc.query, res.Body)
	}
	for _, q := range []string{"limit=0", "limit=201", "status=broken", "as_of=yesterday"} {
		res := f.do(f.admin, http.MethodGet, base+"?"+q, nil)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", q, res.Body)
	}
	res = f.do(f.admin, http.MethodGet, "hosts/"+uuid.NewString()+"/compliance", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	// A deleted host has no compliance to read, now or then.
	res = f.do(f.admin, http.MethodDelete, "hosts/"+id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, base, nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, base+"?"+asOf.Encode(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	// The fleet's snapshot job runs on the leader as it starts.
	require.Eventually(t, func() bool {
		return f.count(`SELECT count(*) FROM river_job WHERE kind = 'compliance_fleet_snapshot' AND state = 'completed'`) > 0
	}, 30*time.Second, 50*time.Millisecond, "the snapshot job never ran")
}
