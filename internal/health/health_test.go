package health_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	return &fixture{t: t, env: env, admin: env.Admin()}
}

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

func (f *fixture) create(body map[string]any) api.HealthCheck {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "health-checks", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var c api.HealthCheck
	res.Decode(f.t, &c)
	return c
}

func (f *fixture) audited(action string, id uuid.UUID) int {
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE resource_type = 'health_check' AND resource_id = $1 AND action = $2`,
		id.String(), action).Scan(&n))
	return n
}

func TestHealthCheckLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)

	svc := f.create(map[string]any{"name": "nginx up", "kind": "service", "service": map[string]any{"unit": "nginx.service"},
		"timeout_sec": 5})
	require.Equal(t, api.HealthCheckKind("service"), svc.Kind)
	require.Equal(t, "nginx.service", svc.Target)
	require.True(t, svc.Enabled)
	require.Zero(t, svc.Retries)
	require.Nil(t, svc.LastResult)
	require.Equal(t, 1, f.audited("health_check.created", svc.Id))

	tcp := f.create(map[string]any{"name": "ssh port", "kind": "tcp", "tcp": map[string]any{"port": 22},
		"timeout_sec": 3, "retries": 2, "retry_delay_sec": 1})
	require.Equal(t, "127.0.0.1:22", tcp.Target)
	require.Equal(t, "127.0.0.1", *tcp.Tcp.Host)
	require.Equal(t, 2, tcp.Retries)

	web := f.create(map[string]any{"name": "web", "kind": "http", "http": map[string]any{"url": "https://127.0.0.1:8443/healthz",
		"body_contains": "ok", "insecure_tls": true}, "timeout_sec": 10, "enabled": false})
	require.Equal(t, 200, *web.Http.ExpectedStatus)
	require.False(t, web.Enabled)

	cmd := f.create(map[string]any{"name": "disk", "kind": "command", "command": map[string]any{"command": "test -w /var/tmp"},
		"timeout_sec": 2})
	require.Equal(t, "test -w /var/tmp", cmd.Target)

	// A live name is unique: 409 naming the field.
	res := f.do(f.admin, http.MethodPost, "health-checks", map[string]any{"name": "disk", "kind": "command",
		"command": map[string]any{"command": "true"}, "timeout_sec": 2})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "name", res.Err(t).Error.Detail["field"])

	// Keyset pages, oldest first.
	res = f.do(f.admin, http.MethodGet, "health-checks?limit=3", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.HealthCheckList
	res.Decode(t, &page)
	require.Len(t, page.Checks, 3)
	require.NotNil(t, page.NextCursor)
	require.Equal(t, svc.Id, page.Checks[0].Id)
	res = f.do(f.admin, http.MethodGet, "health-checks?limit=3&cursor="+*page.NextCursor, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &page)
	require.Len(t, page.Checks, 1)
	require.Nil(t, page.NextCursor)
	require.Equal(t, cmd.Id, page.Checks[0].Id)
	res = f.do(f.admin, http.MethodGet, "health-checks?cursor=garbage", nil)
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "cursor", res.Err(t).Error.Detail["field"])

	// Update: the kind's object replaces the parameters; the merged check is validated.
	res = f.do(f.admin, http.MethodPatch, "health-checks/"+tcp.Id.String(), map[string]any{"tcp": map[string]any{"host": "::1", "port": 2222},
		"retries": 0})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var up api.HealthCheck
	res.Decode(t, &up)
	require.Equal(t, "[::1]:2222", up.Target)
	require.Zero(t, up.Retries)
	require.Equal(t, 1, f.audited("health_check.updated", tcp.Id))
	res = f.do(f.admin, http.MethodPatch, "health-checks/"+tcp.Id.String(), map[string]any{"http": map[string]any{"url": "http://x"}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "http", res.Err(t).Error.Detail["field"])

	// The lead's lookups: in the order asked, unknown ids left out.
	got, err := f.env.App.HealthChecks.ListByIDs(context.Background(), []uuid.UUID{cmd.Id, uuid.New(), svc.Id})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, cmd.Id, got[0].ID)
	require.Equal(t, svc.Id, got[1].ID)

	// Delete: gone from reads, the name is free again.
	res = f.do(f.admin, http.MethodDelete, "health-checks/"+cmd.Id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	require.Equal(t, 1, f.audited("health_check.deleted", cmd.Id))
	res = f.do(f.admin, http.MethodGet, "health-checks/"+cmd.Id.String(), nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	res = f.do(f.admin, http.MethodDelete, "health-checks/"+cmd.Id.String(), nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	f.create(map[string]any{"name": "disk", "kind": "command", "command": map[string]any{"command": "true"}, "timeout_sec": 2})
	got, err = f.env.App.HealthChecks.ListByIDs(context.Background(), []uuid.UUID{cmd.Id})
	require.NoError(t, err)
	require.Empty(t, got)

	// Every change reached the live stream.
	var n int
	require.NoError(t, f.env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE topic = 'jobs' AND type LIKE 'health_check.%'`).Scan(&n))
	require.Equal(t, 7, n)
}

func TestHealthCheckValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"port above range", map[string]any{"kind": "tcp", "tcp": map[string]any{"port": 70000}}, "tcp.port"},
		{"port zero", map[string]any{"kind": "tcp", "tcp": map[string]any{"port": 0}}, "tcp.port"},
		{"bad tcp host", map[string]any{"kind": "tcp", "tcp": map[string]any{"host": "a b;rm", "port": 80}}, "tcp.host"},
		{"tcp without params", map[string]any{"kind": "tcp"}, "tcp"},
		{"other kind's params", map[string]any{"kind": "tcp", "tcp": map[string]any{"port": 80}, "command": map[string]any{"command": "true"}}, "command"},
		{"url scheme", map[string]any{"kind": "http", "http": map[string]any{"url": "ftp://127.0.0.1/"}}, "http.url"},
		{"url without host", map[string]any{"kind": "http", "http": map[string]any{"url": "http:///x"}}, "http.url"},
		{"url with user", map[string]any{"kind": "http", "http": map[string]any{"url": "http://u:p@127.0.0.1/"}}, "http.url"},
		{"expected status", map[string]any{"kind": "http", "http": map[string]any{"url": "http://127.0.0.1/", "expected_status": 700}}, "http.expected_status"},
		{"unit syntax", map[string]any{"kind": "service", "service": map[string]any{"unit": "nginx; reboot"}}, "service.unit"},
		{"empty command", map[string]any{"kind": "command", "command": map[string]any{"command": "   "}}, "command.command"},
		{"unknown kind", map[string]any{"kind": "ping", "command": map[string]any{"command": "true"}}, "kind"},
		{"timeout too long", map[string]any{"kind": "command", "command": map[string]any{"command": "true"}, "timeout_sec": 301}, "timeout_sec"},
		{"timeout zero", map[string]any{"kind": "command", "command": map[string]any{"command": "true"}, "timeout_sec": 0}, "timeout_sec"},
		{"retries", map[string]any{"kind": "command", "command": map[string]any{"command": "true"}, "retries": 11}, "retries"},
		{"blank name", map[string]any{"name": "  ", "kind": "command", "command": map[string]any{"command": "true"}}, "name"},
	}
	for _, tc := range cases {
		body := map[string]any{"name": "bad", "timeout_sec": 5}
		for k, v := range tc.body {
			body[k] = v
		}
		res := f.do(f.admin, http.MethodPost, "health-checks", body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.name, res.Body)
		e := res.Err(t)
		require.Equal(t, "validation_failed", string(e.Error.Code), tc.name)
		require.Equal(t, tc.field, e.Error.Detail["field"], "%s: %s", tc.name, res.Body)
	}
}

func TestHealthCheckPermissions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.create(map[string]any{"name": "c", "kind": "command", "command": map[string]any{"command": "true"}, "timeout_sec": 5})
	body := map[string]any{"name": "n", "kind": "command", "command": map[string]any{"command": "true"}, "timeout_sec": 5}
	for _, role := range []string{authz.RoleViewer, authz.RoleAuditor, authz.RoleSecurityAdmin} {
		s := f.env.Login(role+"-user", f.env.CreateUser(role+"-user", role))
		res := f.do(s, http.MethodGet, "health-checks", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s reads: %s", role, res.Body)
		res = f.do(s, http.MethodGet, "health-checks/"+c.Id.String(), nil)
		require.Equal(t, http.StatusOK, res.Status, "%s reads one: %s", role, res.Body)
		for _, w := range []struct {
			method, path string
			body         any
			perm         string
		}{
			{http.MethodPost, "health-checks", body, authz.PermHealthCheckWrite},
			{http.MethodPatch, "health-checks/" + c.Id.String(), map[string]any{"enabled": false}, authz.PermHealthCheckWrite},
			{http.MethodDelete, "health-checks/" + c.Id.String(), nil, authz.PermHealthCheckWrite},
			{http.MethodPost, "health-checks/" + c.Id.String() + ":test", map[string]any{"host_id": uuid.New()}, authz.PermHealthCheckTest},
		} {
			res = f.do(s, w.method, w.path, w.body)
			require.Equal(t, http.StatusForbidden, res.Status, "%s %s %s: %s", role, w.method, w.path, res.Body)
			require.Equal(t, w.perm, res.Err(t).Error.Detail["required_permission"])
		}
	}
	// A 403 beats a 400: a bad body without the permission learns nothing.
	s := f.env.Login("v2", f.env.CreateUser("v2", authz.RoleViewer))
	res := f.do(s, http.MethodPost, "health-checks", map[string]any{"kind": "tcp", "tcp": map[string]any{"port": 0}})
	require.Equal(t, http.StatusForbidden, res.Status)

	// Test on an unknown host or check: 404.
	res = f.do(f.admin, http.MethodPost, "health-checks/"+c.Id.String()+":test", map[string]any{"host_id": uuid.New()})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPost, "health-checks/"+uuid.NewString()+":test", map[string]any{"host_id": uuid.New()})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}
