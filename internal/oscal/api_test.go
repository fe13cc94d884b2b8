package oscal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/exception"
	"github.com/openwatch/openwatch/internal/oscal"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// fixture is a running application, an admin session and a real sshd on loopback whose
// /etc is a throwaway overlay.
type fixture struct {
	t     testing.TB
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
}

var idemSeq atomic.Int64

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body}
	if method == http.MethodPost {
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("oscal-%d", idemSeq.Add(1))}
	}
	return f.env.Do(req)
}

func (f *fixture) get(s apitest.Session, path string) []byte {
	f.t.Helper()
	res := f.do(s, http.MethodGet, path, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
	return res.Body
}

// host registers a host at the fixture's sshd with a root key credential.
func (f *fixture) host(name string) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": f.srv.Host, "port": f.srv.Port})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	u := f.srv.User(sshtest.UserRoot)
	res = f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "cred-" + name,
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return h.Id
}

// scan runs a scan of the host to its end.
func (f *fixture) scan(hostID uuid.UUID) api.Scan {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts/"+hostID.String()+"/scans", nil)
	require.Equal(f.t, http.StatusAccepted, res.Status, "%s", res.Body)
	var sc api.Scan
	res.Decode(f.t, &sc)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		require.NoError(f.t, json.Unmarshal(f.get(f.admin, "scans/"+sc.Id.String()), &sc))
		switch sc.Status {
		case api.ScanStatusCompleted, api.ScanStatusFailed, api.ScanStatusCancelled:
			require.Equal(f.t, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)
			return sc
		}
		require.True(f.t, time.Now().Before(deadline), "scan %s still %s", sc.Id, sc.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

// results returns every result of a scan by rule id.
func (f *fixture) results(id uuid.UUID) map[string]api.ScanResult {
	f.t.Helper()
	out := map[string]api.ScanResult{}
	for cur := ""; ; {
		path := "scans/" + id.String() + "/results?limit=200"
		if cur != "" {
			path += "&cursor=" + cur
		}
		var page api.ScanResultPage
		require.NoError(f.t, json.Unmarshal(f.get(f.admin, path), &page))
		for _, r := range page.Items {
			out[r.RuleId] = r
		}
		if page.NextCursor == nil {
			return out
		}
		cur = *page.NextCursor
	}
}

// rootRun runs a command as root on the target, inside its overlay.
func (f *fixture) rootRun(script string) {
	f.t.Helper()
	c := f.srv.Dial(f.t, sshtest.UserRoot)
	res, err := c.Run(context.Background(), script)
	require.NoError(f.t, err)
	require.Equal(f.t, 0, res.ExitCode, "%s%s", res.Stdout, res.Stderr)
}

const exceptedRule = "login-defs-pass-max-days"

// TestScanExportThroughTheAPI scans a real Debian target with passing, failing and (under
// an approved exception) excepted rules, exports the scan as OSCAL and checks the
// documents against the NIST schemas and the scan's results, one finding per result.
func TestScanExportThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	f := &fixture{t: t, env: env, admin: env.Admin(), srv: sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1", Overlay: []string{"/etc"}})}
	hostID := f.host("oscal-target")
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)
	first := f.scan(hostID)
	require.Equal(t, api.ResultStatusFail, f.results(first.Id)[exceptedRule].Status)

	// An exception for the failing rule, approved by another person; the next scan records
	// the failure as excepted.
	res := f.do(f.admin, http.MethodPost, "hosts/"+hostID.String()+"/exceptions", map[string]any{"rule_id": exceptedRule,
		"reason": "Password ageing is enforced by the directory.", "expires_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ex api.Exception
	res.Decode(t, &ex)
	approver := env.Login("sam", env.CreateUser("sam", authz.RoleSecurityAdmin))
	res = f.do(approver, http.MethodPost, "exceptions/"+ex.Id.String()+":approve", map[string]string{"reason": "ok"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &ex)
	require.NotNil(t, ex.DecidedBy)
	sc := f.scan(hostID)
	results := f.results(sc.Id)
	require.Equal(t, api.ResultStatusExcepted, results[exceptedRule].Status)
	statuses := map[api.ResultStatus]int{}
	for _, r := range results {
		statuses[r.Status]++
	}
	require.Positive(t, statuses[api.ResultStatusPass])
	require.Positive(t, statuses[api.ResultStatusFail])
	require.Equal(t, 1, statuses[api.ResultStatusExcepted])

	base := "scans/" + sc.Id.String() + "/oscal"
	res = f.do(f.admin, http.MethodGet, base, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	ar := res.Body
	requireValid(t, ar)
	require.Equal(t, string(ar), string(f.get(f.admin, base)), "two exports of one scan are identical")

	doc := decode(t, ar)
	require.Equal(t, sc.FinishedAt.UTC().Format(time.RFC3339Nano), at(doc, "assessment-results", "metadata", "last-modified"))
	result := at(doc, "assessment-results", "results", 0)
	findings := at(result, "findings").([]any)
	observations := map[string]any{}
	for _, o := range at(result, "observations").([]any) {
		observations[at(o, "uuid").(string)] = o
	}
	require.Len(t, findings, len(results), "one finding per result")
	require.Len(t, observations, len(results), "one observation per result")
	risks := map[string]any{}
	for _, r := range at(result, "risks").([]any) {
		risks[at(r, "uuid").(string)] = r
	}
	require.Len(t, risks, 1, "one risk: the excepted result")
	seen := map[string]bool{}
	for _, fd := range findings {
		ruleID := at(fd, "target", "target-id").(string)
		r, ok := results[ruleID]
		require.True(t, ok, "the scan has a result for %s", ruleID)
		require.False(t, seen[ruleID], "one finding for %s", ruleID)
		seen[ruleID] = true
		state := "not-satisfied"
		if r.Status == api.ResultStatusPass {
			state = "satisfied"
		}
		require.Equal(t, state, at(fd, "target", "status", "state"), ruleID)
		obs := observations[at(fd, "related-observations", 0, "observation-uuid").(string)]
		require.NotNil(t, obs, ruleID)
		require.Contains(t, at(obs, "props"), map[string]any{"name": "result", "ns": "urn:openwatch:ns:oscal", "value": string(r.Status)})
		if r.Status == api.ResultStatusExcepted {
			rk := risks[at(fd, "related-risks", 0, "risk-uuid").(string)]
			require.Equal(t, "deviation-approved", at(rk, "status"))
			require.Equal(t, "Password ageing is enforced by the directory.", at(rk, "statement"))
			require.Contains(t, at(rk, "props"), map[string]any{"name": "exception-id", "ns": "urn:openwatch:ns:oscal", "value": ex.Id.String()})
			require.Contains(t, at(rk, "props"), map[string]any{"name": "approved-by", "ns": "urn:openwatch:ns:oscal", "value": *ex.DecidedBy})
		} else {
			require.Nil(t, at(fd, "related-risks"), ruleID)
		}
	}
	// The evidence an observation links to is the scan's evidence of the rule.
	for _, fd := range findings {
		if at(fd, "target", "target-id") == exceptedRule {
			obs := observations[at(fd, "related-observations", 0, "observation-uuid").(string)]
			href := at(obs, "relevant-evidence", 0, "href").(string)
			var ev api.RuleEvidence
			require.NoError(t, json.Unmarshal(f.get(f.admin, href), &ev))
			require.Equal(t, sc.Id, ev.ScanId)
			require.Contains(t, ev.Evidence.Actual, "99999")
		}
	}

	// The plan the results import.
	href := at(doc, "assessment-results", "import-ap", "href").(string)
	require.Equal(t, "/api/v1/"+base+"/assessment-plan", href)
	plan := f.get(f.admin, href)
	requireValid(t, plan)
	require.Equal(t, at(result, "local-definitions", "inventory-items", 0, "uuid"),
		at(decode(t, plan), "assessment-plan", "assessment-subjects", 0, "include-subjects", 0, "subject-uuid"))
	require.Contains(t, at(result, "local-definitions", "inventory-items", 0, "props"), map[string]any{"name": "fqdn", "value": "oscal-target"})

	// One rule's result.
	one := f.get(f.admin, "scans/"+sc.Id.String()+"/rules/"+exceptedRule+"/oscal")
	requireValid(t, one)
	od := decode(t, one)
	require.Len(t, at(od, "assessment-results", "results", 0, "findings"), 1)
	require.Len(t, at(od, "assessment-results", "results", 0, "risks"), 1)
	require.NotEqual(t, at(doc, "assessment-results", "uuid"), at(od, "assessment-results", "uuid"))

	// The first scan, before the exception: the same rule is a plain fail.
	firstDoc := decode(t, f.get(f.admin, "scans/"+first.Id.String()+"/rules/"+exceptedRule+"/oscal"))
	require.Equal(t, "not-satisfied", at(firstDoc, "assessment-results", "results", 0, "findings", 0, "target", "status", "state"))
	require.Nil(t, at(firstDoc, "assessment-results", "results", 0, "risks"))

	// Both scans as a group: one result per host, its latest scan.
	svc := oscal.NewService(env.App.Compliance, env.App.Rules, env.App.Hosts,
		exception.NewService(env.App.Pool, env.App.Audit, env.App.Compliance, exception.Options{}))
	group := uuid.New()
	fleet, err := svc.FleetAssessment(context.Background(), "batch", group, "", "/api/v1/scan-batches/"+group.String(), []uuid.UUID{first.Id, sc.Id})
	require.NoError(t, err)
	require.Len(t, fleet.Results, 1)
	require.Equal(t, sc.Id, fleet.Results[0].ID)
	fleetDoc, err := oscal.AssessmentResults(context.Background(), fleet)
	require.NoError(t, err)
	requireValid(t, fleetDoc)
	require.Equal(t, at(result, "findings"), at(decode(t, fleetDoc), "assessment-results", "results", 0, "findings"),
		"the host's findings are those of its latest scan")
	_, err = svc.FleetAssessment(context.Background(), "batch", group, "", "#plan", []uuid.UUID{first.Id, uuid.New()})
	require.Error(t, err, "an unknown scan")

	// A viewer reads them (scan:read).
	viewer := env.Login("vic", env.CreateUser("vic", authz.RoleViewer))
	require.Equal(t, string(ar), string(f.get(viewer, base)))

	// A role with scan:read but not exception:read reads the deviation without its
	// justification.
	res = f.do(f.admin, http.MethodPost, "roles:create", map[string]any{"id": "scan_reader", "description": "Reads scans", "permissions": []string{"scan:read"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	reader := env.Login("rae", env.CreateUser("rae", "scan_reader"))
	hidden := decode(t, f.get(reader, "scans/"+sc.Id.String()+"/rules/"+exceptedRule+"/oscal"))
	rk := at(hidden, "assessment-results", "results", 0, "risks", 0)
	require.Equal(t, "deviation-approved", at(rk, "status"))
	require.Equal(t, "The justification of the exception is shown to readers of exceptions only.", at(rk, "statement"))
	requireValid(t, f.get(reader, "scans/"+sc.Id.String()+"/rules/"+exceptedRule+"/oscal"))

	// Unknown scan and rule: 404.
	for _, path := range []string{"scans/" + uuid.NewString() + "/oscal", "scans/" + uuid.NewString() + "/oscal/assessment-plan",
		"scans/" + sc.Id.String() + "/rules/no-such-rule/oscal"} {
		res := f.do(f.admin, http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, res.Status, "%s: %s", path, res.Body)
	}
	// A scan that has not completed has nothing to export: 409, with a sentence saying so.
	res = f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": "unreachable", "ip_address": "127.0.0.1", "port": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	res = f.do(f.admin, http.MethodPost, "hosts/"+h.Id.String()+"/scans", nil)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var pending api.Scan
	res.Decode(t, &pending)
	for _, path := range []string{"/oscal", "/oscal/assessment-plan", "/rules/" + exceptedRule + "/oscal"} {
		res = f.do(f.admin, http.MethodGet, "scans/"+pending.Id.String()+path, nil)
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		require.True(t, strings.HasPrefix(res.Err(t).Error.HumanMessage, "The scan has not completed"), "%s", res.Body)
	}
}
