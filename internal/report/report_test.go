package report_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/report"
)

func call(env *apitest.Env, s apitest.Session, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

// seedCompliance adds two hosts with results of three rules (one fail excepted by an
// approved exception) recorded a day ago, and returns the hosts' ids.
func seedCompliance(t *testing.T, env *apitest.Env) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	scanID := uuid.New()
	var ids []uuid.UUID
	exc := uuid.New()
	for i, name := range []string{"web-1", "db-1"} {
		id := uuid.New()
		ids = append(ids, id)
		_, err := env.App.Pool.Exec(ctx, `INSERT INTO hosts (id, hostname, ip_address) VALUES ($1, $2, '127.0.0.1')`, id, name)
		require.NoError(t, err)
		for _, r := range []struct{ rule, status, severity, reason string }{
			{"sshd-permit-root-login", "fail", "high", "=HYPERLINK(\"http://example.com\")"},
			{"sshd-protocol", "pass", "medium", ""},
			{"auditd-enabled", "fail", "critical", "not running"},
		} {
			status := r.status
			var exID *uuid.UUID
			if i == 0 && r.rule == "auditd-enabled" {
				status, exID = "excepted", &exc
			}
			_, err := env.App.Pool.Exec(ctx, `INSERT INTO rule_states (host_id, rule_id, status, severity, reason, evidence_hash, scan_id,
				first_seen_at, changed_at, exception_id) VALUES ($1, $2, $3, $4, $5, '\x00', $6, $7, $7, $8)`,
				id, r.rule, status, r.severity, r.reason, scanID, at, exID)
			require.NoError(t, err)
			_, err = env.App.Pool.Exec(ctx, `INSERT INTO rule_transitions (id, host_id, rule_id, scan_id, change_kind, status, severity,
				reason, evidence_hash, occurred_at, exception_id) VALUES ($1, $2, $3, $4, 'first_seen', $5, $6, $7, '\x00', $8, $9)`,
				uuid.New(), id, r.rule, scanID, status, r.severity, r.reason, at, exID)
			require.NoError(t, err)
		}
	}
	_, err := env.App.Pool.Exec(ctx, `INSERT INTO compliance_exceptions (id, rule_id, scope, host_id, status, reason, expires_at,
		requested_by, requested_at, decided_by, decided_at, updated_at)
		VALUES ($1, 'auditd-enabled', 'host', $2, 'approved', 'legacy host', $3, 'alice', $4, 'bob', $4, $4)`,
		exc, ids[0], at.Add(90*24*time.Hour), at.Add(-time.Hour))
	require.NoError(t, err)
	return ids
}

// generate asks for a report and waits for the job to finish it.
func generate(t *testing.T, env *apitest.Env, s apitest.Session, body map[string]any) api.Report {
	t.Helper()
	res := call(env, s, http.MethodPost, "reports:generate", body)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var r api.Report
	res.Decode(t, &r)
	require.Equal(t, api.ReportStatus("queued"), r.Status)
	deadline := time.Now().Add(60 * time.Second)
	for r.Status == "queued" || r.Status == "running" {
		require.True(t, time.Now().Before(deadline), "the report %s is still %s", r.Id, r.Status)
		time.Sleep(50 * time.Millisecond)
		res = call(env, s, http.MethodGet, "reports/"+r.Id.String(), nil)
		require.Equal(t, http.StatusOK, res.Status)
		res.Decode(t, &r)
	}
	require.Equal(t, api.ReportStatus("completed"), r.Status, "error: %v", r.Error)
	return r
}

func export(t *testing.T, env *apitest.Env, s apitest.Session, id uuid.UUID, format string) []byte {
	t.Helper()
	res := call(env, s, http.MethodGet, fmt.Sprintf("reports/%s/export?format=%s", id, format), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Contains(t, res.Header.Get("Content-Disposition"), "report-"+id.String()+"."+format)
	return res.Body
}

// requireTamperEvident flips one byte at several offsets (start, middle, the signature
// line, the last byte) and wants each copy refused, and the original accepted.
func requireTamperEvident(t *testing.T, file []byte, trusted []report.PublicKey) report.Verified {
	t.Helper()
	v, err := report.Verify(file, trusted)
	require.NoError(t, err)
	n := len(file)
	offsets := []int{0, 1, 5, n / 3, n / 2, 2 * n / 3, n - 120, n - 60, n - 30, n - 2, n - 1}
	for _, off := range offsets {
		for _, flip := range []byte{0x01, 0x20} {
			bad := append([]byte(nil), file...)
			bad[off] ^= flip
			_, err := report.Verify(bad, trusted)
			require.Error(t, err, "a change of byte %d of %d (xor %#x) must fail verification", off, n, flip)
		}
	}
	_, err = report.Verify(append(append([]byte(nil), file...), '\n'), trusted)
	require.Error(t, err, "an appended byte fails verification")
	_, err = report.Verify(file[:n-1], trusted)
	require.Error(t, err, "a removed byte fails verification")
	return v
}

// TestDoneWhen1 is issue 16's "Done when 1": a compliance report and an audit report
// generated through the API, exported in each format, verified offline; a one-byte change
// fails verification. It also checks rotation (a report signed by a retired key still
// verifies, a wrong key fails) and that exports are byte-identical when repeated.
func TestDoneWhen1(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	hosts := seedCompliance(t, env)

	comp := generate(t, env, admin, map[string]any{"kind": "compliance", "scope": map[string]any{"type": "fleet"}})
	aud := generate(t, env, admin, map[string]any{"kind": "audit"})
	require.NotNil(t, comp.ChainHead)
	require.NotNil(t, comp.SigningKeyId)
	require.Positive(t, aud.ChainHead.Seq)

	var keys api.ReportSigningKeys
	res := call(env, admin, http.MethodGet, "reports/signing-key", nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.Decode(t, &keys)
	require.Len(t, keys.Keys, 1)
	trusted, err := report.ParseTrustedKeys(res.Body)
	require.NoError(t, err)
	pemKeys, err := report.ParseTrustedKeys([]byte(keys.Keys[0].PublicKeyPem))
	require.NoError(t, err)
	require.Equal(t, trusted, pemKeys)

	files := map[string][]byte{}
	for _, r := range []api.Report{comp, aud} {
		for _, format := range []string{"json", "csv", "pdf"} {
			file := export(t, env, admin, r.Id, format)
			files[string(r.Kind)+"."+format] = file
			v := requireTamperEvident(t, file, trusted)
			require.True(t, v.Trusted)
			require.Equal(t, format, v.Format)
			require.Equal(t, r.Id.String(), v.ReportID)
			require.Equal(t, string(r.Kind), v.Kind)
			require.Equal(t, *r.SigningKeyId, v.KeyID)
			require.Equal(t, keys.Keys[0].KeyId, v.KeyID)
			require.Equal(t, r.ChainHead.Seq, v.AuditChainHead.Seq)
			require.Equal(t, r.ChainHead.Hash, v.AuditChainHead.Hash)
			require.Equal(t, file, export(t, env, admin, r.Id, format), "a repeated %s export is byte-identical", format)
		}
	}

	// The compliance report: per host and rule, evidence references, exceptions in force,
	// the summary, and formula-safe CSV.
	var doc struct {
		Report report.Document `json:"report"`
	}
	require.NoError(t, json.Unmarshal(files["compliance.json"], &doc))
	c := doc.Report.Compliance
	require.NotNil(t, c)
	require.Len(t, c.Hosts, 2)
	require.Equal(t, int64(2), *doc.Report.Summary.Hosts)
	require.Equal(t, report.Counts{Pass: 2, Fail: 3, Excepted: 1}, *doc.Report.Summary.Results)
	require.Equal(t, map[string]int64{"high": 2, "critical": 1}, doc.Report.Summary.FailingBySeverity)
	require.Len(t, c.Exceptions, 1)
	require.Equal(t, "bob", c.Exceptions[0].ApprovedBy)
	require.Len(t, c.Trend, 30)
	for _, h := range c.Hosts {
		require.Len(t, h.Results, 3)
		for _, r := range h.Results {
			require.Equal(t, fmt.Sprintf("/api/v1/scans/%s/rules/%s/evidence", r.ScanID, r.RuleID), r.Evidence)
		}
	}
	require.Contains(t, string(files["compliance.csv"]), `"'=HYPERLINK(""http://example.com"")"`, "a formula is defused")
	require.NotContains(t, string(files["compliance.csv"]), `,"=HYPERLINK`)

	// The audit report holds the events with their hashes and the chain's verification.
	require.NoError(t, json.Unmarshal(files["audit.json"], &doc))
	require.NotNil(t, doc.Report.Audit)
	require.True(t, doc.Report.Audit.Verification.OK)
	require.NotEmpty(t, doc.Report.Audit.Events)
	for _, e := range doc.Report.Audit.Events {
		require.Len(t, e.Hash, 64)
	}

	// A wrong key fails.
	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, err = report.Verify(files["compliance.pdf"], []report.PublicKey{other})
	require.ErrorContains(t, err, "not one of the trusted keys")

	// Rotation: reports signed by the retired key still verify; new ones use the new key.
	res = call(env, admin, http.MethodPost, "reports/signing-key:rotate", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &keys)
	require.Len(t, keys.Keys, 2)
	require.Equal(t, api.ReportSigningKeyStatus("active"), keys.Keys[0].Status)
	require.Equal(t, api.ReportSigningKeyStatus("retired"), keys.Keys[1].Status)
	require.Equal(t, *comp.SigningKeyId, keys.Keys[1].KeyId)
	trusted, err = report.ParseTrustedKeys(res.Body)
	require.NoError(t, err)
	for _, format := range []string{"json", "csv", "pdf"} {
		file := export(t, env, admin, comp.Id, format)
		require.Equal(t, files["compliance."+format], file, "an old report's export is unchanged by the rotation")
		v, err := report.Verify(file, trusted)
		require.NoError(t, err)
		require.Equal(t, keys.Keys[1].KeyId, v.KeyID)
	}
	next := generate(t, env, admin, map[string]any{"kind": "compliance", "scope": map[string]any{"type": "host", "id": hosts[1]}})
	require.Equal(t, keys.Keys[0].KeyId, *next.SigningKeyId)
	v, err := report.Verify(export(t, env, admin, next.Id, "json"), trusted)
	require.NoError(t, err)
	require.Equal(t, keys.Keys[0].KeyId, v.KeyID)

	var page api.ReportPage
	res = call(env, admin, http.MethodGet, "reports?kind=compliance&limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, next.Id, page.Items[0].Id)
	require.NotNil(t, page.NextCursor)
}

// TestGenerateRefusals: bad input is a 400 naming the field, a missing group or host a
// 404, a caller without the kind's data permission a 403, and an unfinished export a 409.
func TestGenerateRefusals(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	seedCompliance(t, env)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"posture400future":  {map[string]any{"kind": "posture", "parameters": map[string]any{"as_of": future}}, 400, "parameters.as_of"},
		"posture400nodata":  {map[string]any{"kind": "posture", "parameters": map[string]any{"as_of": past}}, 400, "parameters.as_of"},
		"posture400missing": {map[string]any{"kind": "posture"}, 400, "parameters.as_of"},
		"framework400":      {map[string]any{"kind": "compliance", "parameters": map[string]any{"framework": "nope"}}, 400, "parameters.framework"},
		"kind400":           {map[string]any{"kind": "nope"}, 400, ""},
		"minSeverity400":    {map[string]any{"kind": "compliance", "parameters": map[string]any{"min_severity": "high"}}, 400, "parameters.min_severity"},
		"vulnRange400":      {map[string]any{"kind": "vulnerability", "parameters": map[string]any{"since": past}}, 400, "parameters"},
		"groupNoID400":      {map[string]any{"kind": "compliance", "scope": map[string]any{"type": "group"}}, 400, "scope.id"},
		"host404":           {map[string]any{"kind": "compliance", "scope": map[string]any{"type": "host", "id": uuid.New()}}, 404, ""},
		"auditScope400":     {map[string]any{"kind": "audit", "scope": map[string]any{"type": "host", "id": uuid.New()}}, 400, "scope"},
		"auditRange400":     {map[string]any{"kind": "audit", "parameters": map[string]any{"since": future, "until": past}}, 400, "parameters.since"},
		"unknownField400":   {map[string]any{"kind": "audit", "extra": 1}, 400, ""},
		"complianceAsOf400": {map[string]any{"kind": "compliance", "parameters": map[string]any{"as_of": past}}, 400, "parameters.as_of"},
	} {
		res := call(env, admin, http.MethodPost, "reports:generate", tc.body)
		require.Equal(t, tc.status, res.Status, "%s: %s", name, res.Body)
		if tc.field != "" {
			require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], name)
		}
	}
	// A posture report as of an instant after the first results.
	r := generate(t, env, admin, map[string]any{"kind": "posture", "parameters": map[string]any{
		"as_of": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}})
	require.Equal(t, api.ReportKind("posture"), r.Kind)

	// An auditor generates reports and reads them; a viewer may not; a user with
	// report:generate but without audit:read gets a 403 for an audit report.
	auditor := env.Login("aud", env.CreateUser("aud", authz.RoleAuditor))
	generate(t, env, auditor, map[string]any{"kind": "audit"})
	viewer := env.Login("view", env.CreateUser("view", authz.RoleViewer))
	res := call(env, viewer, http.MethodGet, "reports", nil)
	require.Equal(t, http.StatusForbidden, res.Status)
	res = call(env, auditor, http.MethodPost, "reports/signing-key:rotate", nil)
	require.Equal(t, http.StatusForbidden, res.Status)

	res = call(env, admin, http.MethodGet, "reports/"+uuid.NewString()+"/export?format=json", nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	res = call(env, admin, http.MethodGet, "reports/"+r.Id.String()+"/export?format=xml", nil)
	require.Equal(t, http.StatusBadRequest, res.Status)

	res = call(env, admin, http.MethodGet, "reports/frameworks", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var fw api.ReportFrameworkList
	res.Decode(t, &fw)
	require.NotEmpty(t, fw.Frameworks)
	r = generate(t, env, admin, map[string]any{"kind": "compliance", "parameters": map[string]any{"framework": fw.Frameworks[0].Id}})
	require.Equal(t, fw.Frameworks[0].Id, *r.Parameters.Framework)
}

// TestSchedules: CRUD with validation of the cron expression and time zone; a due
// schedule generates a report and delivers a link to it to a loopback webhook.
func TestSchedules(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	res := call(env, admin, http.MethodPost, "notifications/channels", map[string]any{"name": "hook", "type": "webhook",
		"config": map[string]any{"url": hook.URL}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ch api.NotificationChannel
	res.Decode(t, &ch)

	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"cron400":     {map[string]any{"name": "x", "kind": "audit", "cron": "61 * * * *", "timezone": "UTC"}, "cron"},
		"sixFields":   {map[string]any{"name": "x", "kind": "audit", "cron": "0 0 * * * *", "timezone": "UTC"}, "cron"},
		"timezone400": {map[string]any{"name": "x", "kind": "audit", "cron": "0 6 * * 1", "timezone": "Mars/Olympus"}, "timezone"},
		"channel400":  {map[string]any{"name": "x", "kind": "audit", "cron": "0 6 * * 1", "timezone": "UTC", "channel_ids": []string{uuid.NewString()}}, "channel_ids"},
		"posture400":  {map[string]any{"name": "x", "kind": "posture", "cron": "0 6 * * 1", "timezone": "UTC"}, "kind"},
	} {
		res := call(env, admin, http.MethodPost, "reports/schedules", tc.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], name)
	}

	res = call(env, admin, http.MethodPost, "reports/schedules", map[string]any{"name": "weekly audit", "kind": "audit",
		"cron": "0 6 * * 1", "timezone": "Europe/Paris", "format": "csv", "channel_ids": []string{ch.Id.String()}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sc api.ReportSchedule
	res.Decode(t, &sc)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	local := sc.NextRunAt.In(paris)
	require.Equal(t, time.Monday, local.Weekday())
	require.Equal(t, 6, local.Hour())

	res = call(env, admin, http.MethodPatch, "reports/schedules/"+sc.Id.String(), map[string]any{"timezone": "Nowhere/Else"})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = call(env, admin, http.MethodPatch, "reports/schedules/"+sc.Id.String(), map[string]any{"name": "weekly audit (Paris)"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &sc)
	require.Equal(t, "weekly audit (Paris)", sc.Name)

	var page api.ReportSchedulePage
	res = call(env, admin, http.MethodGet, "reports/schedules", nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)

	// Make it due and run the schedules as the periodic job does.
	_, err = env.App.Pool.Exec(context.Background(), `UPDATE report_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $1`, sc.Id)
	require.NoError(t, err)
	n, err := env.App.Reports.RunDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	res = call(env, admin, http.MethodGet, "reports/schedules", nil)
	res.Decode(t, &page)
	require.NotNil(t, page.Items[0].LastReportId)
	require.True(t, page.Items[0].NextRunAt.After(time.Now()))
	reportID := *page.Items[0].LastReportId
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the webhook received nothing")
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	require.Equal(t, "report.generated", got[0]["event"])
	require.Equal(t, reportID.String(), got[0]["report_id"])
	require.True(t, strings.HasSuffix(got[0]["link"].(string), "/api/v1/reports/"+reportID.String()+"/export?format=csv"))
	mu.Unlock()
	var r api.Report
	res = call(env, admin, http.MethodGet, "reports/"+reportID.String(), nil)
	res.Decode(t, &r)
	require.Equal(t, &sc.Id, r.ScheduleId)
	require.Equal(t, "weekly audit (Paris)", r.RequestedByName)

	res = call(env, admin, http.MethodDelete, "reports/schedules/"+sc.Id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status)
	res = call(env, admin, http.MethodDelete, "reports/schedules/"+sc.Id.String(), nil)
	require.Equal(t, http.StatusNotFound, res.Status)
}

// TestPatchHistoryAndProgress: a patch history report lists the jobs of its range with the
// outcome on each host, and the generation is published on the event stream.
func TestPatchHistoryAndProgress(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()
	hosts := seedCompliance(t, env)
	job := uuid.New()
	now := time.Now().UTC()
	_, err := env.App.Pool.Exec(ctx, `INSERT INTO change_jobs (id, kind, name, status, spec, selector, canary, growth,
		approval_required, requested_by_name, created_at, started_at, finished_at, updated_at)
		VALUES ($1, 'patch', 'monthly patches', 'completed', '{}', '{}', 1, 2, false, 'alice', $2, $2, $2, $2)`, job, now.Add(-time.Hour))
	require.NoError(t, err)
	for i, h := range hosts {
		status := []string{"succeeded", "failed"}[i]
		_, err = env.App.Pool.Exec(ctx, `INSERT INTO change_job_hosts (job_id, host_id, host_name, environment, wave, position, status, error)
			VALUES ($1, $2, $3, 'prod', 0, $4, $5, NULLIF($6, ''))`, job, h, fmt.Sprintf("host-%d", i), i, status,
			map[bool]string{true: "", false: "apt-get failed"}[status == "succeeded"])
		require.NoError(t, err)
	}
	r := generate(t, env, admin, map[string]any{"kind": "patch_history"})
	var doc struct {
		Report report.Document `json:"report"`
	}
	require.NoError(t, json.Unmarshal(export(t, env, admin, r.Id, "json"), &doc))
	p := doc.Report.PatchHistory
	require.NotNil(t, p)
	require.Len(t, p.Jobs, 1)
	require.Equal(t, "monthly patches", p.Jobs[0].Name)
	require.Len(t, p.Jobs[0].Hosts, 2)
	require.Equal(t, map[string]int64{"succeeded": 1, "failed": 1}, doc.Report.Summary.HostOutcomes)
	require.Equal(t, "apt-get failed", p.Jobs[0].Hosts[1].Error)
	pdf := export(t, env, admin, r.Id, "pdf")
	requireTamperEvident(t, pdf, nil)

	var types []string
	rows, err := env.App.Pool.Query(ctx, `SELECT type FROM events WHERE topic = 'jobs' AND data->>'report_id' = $1 ORDER BY id`, r.Id.String())
	require.NoError(t, err)
	for rows.Next() {
		var typ string
		require.NoError(t, rows.Scan(&typ))
		types = append(types, typ)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"report.progress", "report.completed"}, types)
}
