package audit_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/license"
)

func events(t *testing.T, env *apitest.Env, token, query string) []api.AuditEvent {
	t.Helper()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events" + query, Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.AuditEventsPage
	res.Decode(t, &page)
	return page.Items
}

func actions(es []api.AuditEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

// TestStateChangesAreAudited: every change writes its event, newest first, with the
// request's correlation id, and secrets never reach the trail.
func TestStateChangesAreAudited(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		Headers: map[string]string{"X-Correlation-Id": "create-olga"},
		JSON:    map[string]string{"username": "olga", "email": "olga@example.com", "password": "olga-secret-password"}})
	require.Equal(t, http.StatusCreated, res.Status)
	var olga api.UserResponse
	res.Decode(t, &olga)
	env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "olga", "password": "wrong-password"}})
	viewer := env.Login("olga", "olga-secret-password")
	env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: viewer.AccessToken}) // denied
	env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + olga.Id.String() + ":disable", Token: admin.AccessToken})

	all := events(t, env, admin.AccessToken, "")
	require.Equal(t, []string{"user.disabled", "authz.denied", "auth.login.succeeded", "auth.login.failed", "user.created", "auth.login.succeeded", "user.created"},
		actions(all), "newest first; the last is the test's admin, created by the system")
	require.Equal(t, "system", all[6].ActorType)
	require.Equal(t, "user", all[4].ActorType)
	created := events(t, env, admin.AccessToken, "?correlation_id=create-olga")
	require.Len(t, created, 1)
	require.Equal(t, "user.created", created[0].Action)
	require.Equal(t, "user", *created[0].ResourceType)
	require.Equal(t, olga.Id.String(), *created[0].ResourceId)

	denied := events(t, env, admin.AccessToken, "?action=authz.denied")
	require.Equal(t, "user:read", denied[0].Detail["required_permission"])
	require.Equal(t, "warning", string(denied[0].Severity))
	failed := events(t, env, admin.AccessToken, "?action=auth.login.failed&actor_type=anonymous")
	require.Len(t, failed, 1)
	require.Equal(t, "bad_password", failed[0].Detail["reason"])

	page1 := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?limit=2", Token: admin.AccessToken})
	var p api.AuditEventsPage
	page1.Decode(t, &p)
	require.Len(t, p.Items, 2)
	require.NotNil(t, p.NextCursor)
	next := events(t, env, admin.AccessToken, "?limit=2&cursor="+*p.NextCursor)
	require.Equal(t, actions(all)[2:4], actions(next))
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?cursor=bogus", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status, "a malformed cursor is a 400, not a silent restart")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?since=yesterday", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)

	raw, err := json.Marshal(all)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "olga-secret-password", "passwords never reach the trail")
	require.NotContains(t, string(raw), "wrong-password")

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "audit/integrity:verify", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var v api.AuditIntegrityResult
	res.Decode(t, &v)
	require.True(t, v.Ok)
	require.EqualValues(t, len(all), v.Checked, "reading and refused reads add nothing")
}

func TestIntegrityVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for _, n := range []string{"a1", "a2", "a3"} {
		env.CreateUser(n, authz.RoleViewer)
	}
	env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/logout", Token: env.Login("a1", "pw-a1-0123456789").AccessToken})
	_, err := env.App.Pool.Exec(t.Context(), `ALTER TABLE audit_events DISABLE TRIGGER USER`)
	require.NoError(t, err)
	_, err = env.App.Pool.Exec(t.Context(), `UPDATE audit_events SET detail = '{"username":"mallory"}' WHERE seq = 3`)
	require.NoError(t, err)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "audit/integrity:verify", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var v api.AuditIntegrityResult
	res.Decode(t, &v)
	require.False(t, v.Ok)
	require.EqualValues(t, 3, *v.FirstBrokenSeq)
}

func TestExportNeedsTheLicense(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events:export?format=csv", Token: admin.AccessToken})
	require.Equal(t, http.StatusPaymentRequired, res.Status)
	e := res.Err(t)
	require.Equal(t, "license.feature_unavailable", e.Error.Code)
	require.Equal(t, "audit_export", e.Error.Detail["feature"])
	viewer := env.Login("vv", env.CreateUser("vv", authz.RoleViewer))
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events:export", Token: viewer.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status, "RBAC answers before the license gate")
}

func TestExportCSVIsFormulaSafe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.jwks"), []byte(jwks), 0o644))
	now := time.Now()
	tok, err := license.Mint(priv, "k1", license.Claims{Tier: license.TierPlus, CustomerID: "acme", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "license.jwt"), []byte(tok), 0o600))
	env := apitest.New(t, func(d *app.Deps) {
		d.Config.License.File = filepath.Join(dir, "license.jwt")
		d.Config.License.TrustedKeysFile = filepath.Join(dir, "keys.jwks")
	})
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "evil_role", "description": "=HYPERLINK(\"http://x\")", "permissions": []string{"account:self"}}})
	require.Equal(t, http.StatusCreated, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events:export?format=csv", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, "text/csv", res.Header.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "seq", rows[0][0])
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" {
				require.NotContains(t, "=+-@\t\r", cell[:1], "no cell starts like a formula: %q", cell)
			}
		}
	}
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events:export", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var es []api.AuditEvent
	res.Decode(t, &es)
	require.Equal(t, []string{"audit.exported", "role.created"}, actions(es[:2]), "the CSV export was itself audited")
}
