package exception_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/exception"
	"github.com/openwatch/openwatch/internal/scan"
)

type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
	host  uuid.UUID
	rule  string // a rule failing on host
}

// setup builds the app with a host whose results are seeded (about a fifth fail, a week
// ago) and picks a failing rule of the corpus.
func setup(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]string{"hostname": "exc-target", "ip_address": "127.0.0.1"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h struct{ ID uuid.UUID }
	res.Decode(t, &h)
	f.host = h.ID
	_, err := scan.SeedCompliance(context.Background(), env.App.Pool, env.App.Rules, 0, 0)
	require.NoError(t, err)
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT rule_id FROM rule_states WHERE host_id = $1 AND status = 'fail' AND rule_id NOT LIKE 'bench-%' ORDER BY rule_id LIMIT 1`,
		f.host).Scan(&f.rule))
	return f
}

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

func (f *fixture) user(name, role string) (apitest.Session, *authz.Principal) {
	f.t.Helper()
	pw := f.env.CreateUser(name, role)
	var id uuid.UUID
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, name).Scan(&id))
	return f.env.Login(name, pw), &authz.Principal{UserID: id, Username: name}
}

func (f *fixture) adminPrincipal() *authz.Principal {
	var id uuid.UUID
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'admin'`).Scan(&id))
	return &authz.Principal{UserID: id, Username: "admin"}
}

// result returns the host's result of the rule and the summary, now or as of an instant.
func (f *fixture) result(asOf *time.Time) (api.HostRuleResult, api.ComplianceCounts) {
	f.t.Helper()
	q := url.Values{"limit": {"200"}}
	if asOf != nil {
		q.Set("as_of", asOf.UTC().Format(time.RFC3339Nano))
	}
	for cur := ""; ; {
		if cur != "" {
			q.Set("cursor", cur)
		}
		res := f.do(f.admin, http.MethodGet, "hosts/"+f.host.String()+"/compliance?"+q.Encode(), nil)
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		var page api.HostCompliance
		res.Decode(f.t, &page)
		for _, it := range page.Items {
			if it.RuleId == f.rule {
				return it, page.Summary
			}
		}
		require.NotNil(f.t, page.NextCursor, "the rule has a result")
		cur = *page.NextCursor
	}
}

func (f *fixture) fleetScore() float64 {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "fleet/score", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var s api.FleetScore
	res.Decode(f.t, &s)
	return s.PassingFraction
}

func (f *fixture) request(s apitest.Session, body map[string]any) *apitest.Response {
	f.t.Helper()
	return f.do(s, http.MethodPost, "hosts/"+f.host.String()+"/exceptions", body)
}

func validBody(rule string) map[string]any {
	return map[string]any{"rule_id": rule, "reason": "compensating control in place",
		"expires_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
}

// TestFourEyes: the requester cannot approve (403 naming why, even as admin), a user
// without exception:approve is refused naming the permission, another user with it
// approves; the approval turns the fail into excepted and raises the host's and the
// fleet's scores; revoking turns it back.
func TestFourEyes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	viewer, _ := f.user("vera", authz.RoleViewer)
	approver, _ := f.user("sam", authz.RoleSecurityAdmin)

	res := f.request(f.admin, validBody(f.rule))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var e api.Exception
	res.Decode(t, &e)
	require.Equal(t, api.ExceptionStatus("pending"), e.Status)
	require.True(t, *e.RequestedByCaller)

	before, sumBefore := f.result(nil)
	require.Equal(t, api.ResultStatus("fail"), before.Status)
	fleetBefore := f.fleetScore()

	decision := map[string]string{"reason": "looks fine"}
	res = f.do(f.admin, http.MethodPost, "exceptions/"+e.Id.String()+":approve", decision)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	env := res.Err(t)
	require.Contains(t, env.Error.HumanMessage, "You requested this exception; another person must approve it")
	require.Equal(t, "four_eyes", env.Error.Detail["reason"])
	res = f.do(f.admin, http.MethodPost, "exceptions/"+e.Id.String()+":reject", decision)
	require.Equal(t, http.StatusForbidden, res.Status, "the requester cannot reject either: %s", res.Body)

	res = f.do(viewer, http.MethodPost, "exceptions/"+e.Id.String()+":approve", decision)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Equal(t, authz.PermExceptionApprove, res.Err(t).Error.Detail["required_permission"])

	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":approve", map[string]string{"reason": " "})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "reason", res.Err(t).Error.Detail["field"])

	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":approve", decision)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &e)
	require.Equal(t, api.ExceptionStatus("approved"), e.Status)
	require.False(t, *e.RequestedByCaller)

	after, sumAfter := f.result(nil)
	require.Equal(t, api.ResultStatus("excepted"), after.Status)
	require.Equal(t, e.Id, *after.ExceptionId)
	require.Equal(t, sumBefore.Fail-1, sumAfter.Fail)
	require.Equal(t, sumBefore.Excepted+1, sumAfter.Excepted)
	require.Greater(t, *sumAfter.PassingFraction, *sumBefore.PassingFraction, "the host's score rises")
	// The fleet's cache hears of the change at commit (LISTEN), so the score follows shortly.
	require.Eventually(t, func() bool { return f.fleetScore() > fleetBefore }, 10*time.Second, 50*time.Millisecond,
		"the fleet's score rises")
	require.Eventually(t, func() bool { // the host detail's cache hears of it at commit
		res := f.do(f.admin, http.MethodGet, "hosts/"+f.host.String(), nil)
		var d api.HostDetailResponse
		res.Decode(t, &d)
		return d.ComplianceSummary.Excepted != nil && *d.ComplianceSummary.Excepted == 1 &&
			d.ComplianceSummary.Failing == sumAfter.Fail
	}, 10*time.Second, 50*time.Millisecond, "the host's summary counts the excepted result")

	// Illegal moves name the current state.
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":approve", decision)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "approved", res.Err(t).Error.Detail["state"])
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":reject", decision)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)

	// A duplicate open exception of the same scope and rule is a conflict.
	res = f.request(approver, validBody(f.rule))
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)

	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":revoke", map[string]string{"reason": "control removed"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	back, sumBack := f.result(nil)
	require.Equal(t, api.ResultStatus("fail"), back.Status)
	require.Nil(t, back.ExceptionId)
	require.Equal(t, sumBefore.Fail, sumBack.Fail)
	require.Eventually(t, func() bool { return math.Abs(f.fleetScore()-fleetBefore) < 1e-9 }, 10*time.Second,
		50*time.Millisecond, "the fleet's score is back")
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":revoke", map[string]string{"reason": "again"})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "revoked", res.Err(t).Error.Detail["state"])

	// The approver's feed asked for the decision; the requester's feed tells each decision.
	feed := func(s apitest.Session) []api.FeedItem {
		res := f.do(s, http.MethodGet, "notifications/feed?limit=50", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.FeedPage
		res.Decode(t, &p)
		return p.Items
	}
	kinds := func(items []api.FeedItem) []string {
		var out []string
		for _, it := range items {
			if strings.HasPrefix(it.Kind, "exception.") {
				require.Equal(t, "/exceptions?exception="+e.Id.String(), it.Link)
				out = append(out, it.Kind)
			}
		}
		return out
	}
	require.Equal(t, []string{"exception.requested"}, kinds(feed(approver)))
	require.Equal(t, []string{"exception.revoked", "exception.approved", "exception.requested"}, kinds(feed(f.admin)))
	require.Empty(t, kinds(feed(viewer)), "a viewer may not approve and requested nothing")

	// Every step is audited with its reason.
	for _, action := range []string{"exception.requested", "exception.approved", "exception.revoked"} {
		var n int
		require.NoError(t, f.env.App.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM audit_events WHERE resource_type = 'exception' AND resource_id = $1 AND action = $2 AND detail ? 'reason'`,
			e.Id.String(), action).Scan(&n))
		require.Equal(t, 1, n, action)
	}

	// The lists.
	res = f.do(viewer, http.MethodGet, "hosts/"+f.host.String()+"/exceptions", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.ExceptionPage
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	res = f.do(viewer, http.MethodGet, "compliance/exceptions?status=revoked&rule_id="+f.rule, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	res = f.do(viewer, http.MethodGet, "compliance/exceptions?status=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
}

// TestAsOfAndExpiry drives time through the service's Now: as_of before the approval
// shows fail, after it excepted, after the expiry (run by the job's method) fail again,
// with an exception_expired alert on the host.
func TestAsOfAndExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, approver := f.user("sam", authz.RoleSecurityAdmin)
	base := time.Now().Add(-20 * time.Hour).Truncate(time.Second) // after the seed's history (a day ago)
	now := base
	svc := exception.NewService(f.env.App.Pool, f.env.App.Audit, f.env.App.Compliance, exception.Options{
		Now: func() time.Time { return now }, MaxLifetime: 10 * 24 * time.Hour, ExpiringWindow: 24 * time.Hour})
	ctx := context.Background()
	e, err := svc.Request(ctx, f.adminPrincipal(), exception.Request{RuleID: f.rule, Scope: exception.ScopeHost,
		HostID: &f.host, Reason: "accepted for the migration", ExpiresAt: base.Add(5 * time.Hour)}, true)
	require.NoError(t, err)
	now = base.Add(time.Hour)
	_, err = svc.Decide(ctx, approver, e.ID, exception.Approve, "ok")
	require.NoError(t, err)
	_, sumNow := f.result(nil)

	beforeApproval := base.Add(30 * time.Minute)
	afterApproval := base.Add(2 * time.Hour)
	r, sum := f.result(&beforeApproval)
	require.Equal(t, api.ResultStatus("fail"), r.Status)
	require.Equal(t, sumNow.Fail+1, sum.Fail)
	r, sum = f.result(&afterApproval)
	require.Equal(t, api.ResultStatus("excepted"), r.Status)
	require.Equal(t, e.ID, *r.ExceptionId)
	require.Equal(t, sumNow.Fail, sum.Fail)

	// Within a day of its expiry (the window): one exception_expiring alert.
	now = base.Add(2 * time.Hour)
	n, err := svc.RaiseExpiring(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = svc.RaiseExpiring(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "raised once")

	// Nothing is due before the expiry; after it, the job expires it and the fail is back.
	n, err = svc.ExpireDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	now = base.Add(6 * time.Hour)
	n, err = svc.ExpireDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := svc.Get(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, exception.StatusExpired, got.Status)

	afterExpiry := base.Add(7 * time.Hour)
	r, sum = f.result(&afterExpiry)
	require.Equal(t, api.ResultStatus("fail"), r.Status)
	require.Equal(t, sumNow.Fail+1, sum.Fail)
	r, _ = f.result(&afterApproval)
	require.Equal(t, api.ResultStatus("excepted"), r.Status, "history keeps what was true then")
	r, _ = f.result(nil)
	require.Equal(t, api.ResultStatus("fail"), r.Status)

	var alerts, live int
	require.NoError(t, f.env.App.Pool.QueryRow(ctx,
		`SELECT count(*) FROM alerts WHERE alert_type = 'exception_expired' AND host_id = $1 AND rule_id = $2 AND state = 'active'`,
		f.host, f.rule).Scan(&alerts))
	require.Equal(t, 1, alerts)
	require.NoError(t, f.env.App.Pool.QueryRow(ctx,
		`SELECT count(*) FROM alerts WHERE alert_type = 'exception_expiring' AND state IN ('active', 'acknowledged', 'silenced')`).Scan(&live))
	require.Zero(t, live, "the expiring alert resolved with the expiry")
	var audited int
	require.NoError(t, f.env.App.Pool.QueryRow(ctx,
		`SELECT count(*) FROM audit_events WHERE action = 'exception.expired' AND resource_id = $1 AND actor_type = 'system'`,
		e.ID.String()).Scan(&audited))
	require.Equal(t, 1, audited)

	// An exception never decided before its expiry expires from pending, changing nothing.
	p, err := svc.Request(ctx, f.adminPrincipal(), exception.Request{RuleID: f.rule, Scope: exception.ScopeFleet,
		Reason: "fleet", ExpiresAt: now.Add(time.Hour)}, false)
	require.NoError(t, err)
	now = now.Add(2 * time.Hour)
	n, err = svc.ExpireDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err = svc.Get(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, exception.StatusExpired, got.Status)
	_, err = svc.Decide(ctx, approver, p.ID, exception.Approve, "too late")
	require.Error(t, err)
}

// TestBadInput: each bad request is a 400 naming its field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name  string
		path  string
		body  map[string]any
		field string
	}{
		{"past expiry", "host", map[string]any{"rule_id": f.rule, "reason": "r", "expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "expires_at"},
		{"beyond max lifetime", "host", map[string]any{"rule_id": f.rule, "reason": "r", "expires_at": time.Now().Add(400 * 24 * time.Hour).UTC().Format(time.RFC3339)}, "expires_at"},
		{"unknown rule", "host", map[string]any{"rule_id": "no-such-rule", "reason": "r", "expires_at": future}, "rule_id"},
		{"blank reason", "host", map[string]any{"rule_id": f.rule, "reason": "  ", "expires_at": future}, "reason"},
		{"missing reason", "host", map[string]any{"rule_id": f.rule, "expires_at": future}, "reason"},
		{"bad scope", "fleet", map[string]any{"rule_id": f.rule, "scope": "galaxy", "reason": "r", "expires_at": future}, "scope"},
		{"group without id", "fleet", map[string]any{"rule_id": f.rule, "scope": "group", "reason": "r", "expires_at": future}, "group_id"},
		{"unknown group", "fleet", map[string]any{"rule_id": f.rule, "scope": "group", "group_id": uuid.NewString(), "reason": "r", "expires_at": future}, "group_id"},
		{"fleet with host", "fleet", map[string]any{"rule_id": f.rule, "scope": "fleet", "host_id": f.host.String(), "reason": "r", "expires_at": future}, "host_id"},
	}
	for _, c := range cases {
		path := "hosts/" + f.host.String() + "/exceptions"
		if c.path == "fleet" {
			path = "compliance/exceptions"
		}
		res := f.do(f.admin, http.MethodPost, path, c.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", c.name, res.Body)
		require.Contains(t, []any{c.field, "body." + c.field, "/" + c.field}, res.Err(t).Error.Detail["field"], "%s: %s", c.name, res.Body)
	}
	res := f.do(f.admin, http.MethodPost, "hosts/"+uuid.NewString()+"/exceptions", validBody(f.rule))
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, "exceptions/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	// A group and a fleet-wide exception of the same rule are different scopes.
	res = f.do(f.admin, http.MethodPost, "compliance/exceptions", map[string]any{"rule_id": f.rule, "scope": "fleet", "reason": "r", "expires_at": future})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = f.request(f.admin, validBody(f.rule))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
}

// TestScanRecordsExcepted: a scan stored while an approved exception is in force records
// the rule's fail as excepted, naming the exception, and passing it again is a pass.
func TestScanRecordsExcepted(t *testing.T) {
	t.Parallel()
	f := setup(t)
	approver, _ := f.user("sam", authz.RoleSecurityAdmin)
	ctx := context.Background()
	require.NoError(t, f.env.App.Pool.QueryRow(ctx,
		`SELECT rule_id FROM rule_states WHERE host_id = $1 AND status = 'pass' AND rule_id NOT LIKE 'bench-%' ORDER BY rule_id LIMIT 1`,
		f.host).Scan(&f.rule))
	res := f.do(f.admin, http.MethodPost, "compliance/exceptions", map[string]any{"rule_id": f.rule, "scope": "fleet",
		"reason": "fleet-wide acceptance", "expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var e api.Exception
	res.Decode(t, &e)
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":approve", map[string]string{"reason": "ok"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	r, _ := f.result(nil)
	require.Equal(t, api.ResultStatus("pass"), r.Status, "a passing rule stays passing")

	// A scan in which every result flips: the rule now fails, under the exception.
	_, err := f.env.App.Compliance.MeasureIngest(ctx, 1, 1, 100)
	require.NoError(t, err)
	r, sum := f.result(nil)
	require.Equal(t, api.ResultStatus("excepted"), r.Status)
	require.Equal(t, e.Id, *r.ExceptionId)
	require.Equal(t, int64(1), sum.Excepted)
	var prev, exID string
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT previous_status, exception_id::text FROM rule_transitions
		WHERE host_id = $1 AND rule_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT 1`, f.host, f.rule).Scan(&prev, &exID))
	require.Equal(t, "pass", prev)
	require.Equal(t, e.Id.String(), exID)
	var scanID uuid.UUID
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT id FROM scans WHERE host_id = $1 ORDER BY created_at DESC LIMIT 1`, f.host).Scan(&scanID))
	res = f.do(f.admin, http.MethodGet, "scans/"+scanID.String()+"/results?status=excepted", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var results api.ScanResultPage
	res.Decode(t, &results)
	require.Len(t, results.Items, 1, "the scan's results name the excepted one")
	require.Equal(t, e.Id, *results.Items[0].ExceptionId)
	var drift int
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE alert_type = 'compliance_drift' AND rule_id = $1`,
		f.rule).Scan(&drift))
	require.Zero(t, drift, "an accepted failure is no drift")
}

// TestGroupScope: a group exception excepts the rule on the group's hosts only, and its
// revocation names the hosts it had excepted even after one left the group.
func TestGroupScope(t *testing.T) {
	t.Parallel()
	f := setup(t)
	approver, _ := f.user("sam", authz.RoleSecurityAdmin)
	ctx := context.Background()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]string{"hostname": "exc-other", "ip_address": "127.0.0.1"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var other struct{ ID uuid.UUID }
	res.Decode(t, &other)
	_, err := scan.SeedCompliance(ctx, f.env.App.Pool, f.env.App.Rules, 0, 0) // the same results: the seed is by host and rule
	require.NoError(t, err)
	var otherStatus string
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT status FROM rule_states WHERE host_id = $1 AND rule_id = $2`,
		other.ID, f.rule).Scan(&otherStatus))

	res = f.do(f.admin, http.MethodPost, "groups", map[string]string{"name": "exc-group"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var g struct{ ID uuid.UUID }
	res.Decode(t, &g)
	res = f.do(f.admin, http.MethodPut, "groups/"+g.ID.String()+"/members/"+f.host.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)

	res = f.do(f.admin, http.MethodPost, "compliance/exceptions", map[string]any{"rule_id": f.rule, "scope": "group",
		"group_id": g.ID.String(), "reason": "group acceptance", "expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var e api.Exception
	res.Decode(t, &e)
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":approve", map[string]string{"reason": "ok"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	status := func(host uuid.UUID) string {
		var s string
		require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT status FROM rule_states WHERE host_id = $1 AND rule_id = $2`, host, f.rule).Scan(&s))
		return s
	}
	require.Equal(t, "excepted", status(f.host))
	require.Equal(t, otherStatus, status(other.ID), "a host outside the group is untouched")

	// The exception lists under the member host, and under the group's filter.
	res = f.do(f.admin, http.MethodGet, "hosts/"+f.host.String()+"/exceptions?status=approved", nil)
	var page api.ExceptionPage
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	res = f.do(f.admin, http.MethodGet, "hosts/"+other.ID.String()+"/exceptions", nil)
	res.Decode(t, &page)
	require.Empty(t, page.Items)

	// The host leaves the group; revoking still restores its fail.
	res = f.do(f.admin, http.MethodDelete, "groups/"+g.ID.String()+"/members/"+f.host.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = f.do(approver, http.MethodPost, "exceptions/"+e.Id.String()+":revoke", map[string]string{"reason": "done"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, "fail", status(f.host))
}
