package hostkey_test

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

func call(env *apitest.Env, s apitest.Session, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

// auditDetail returns the detail of the newest event of action.
func auditDetail(t *testing.T, env *apitest.Env, action string) (map[string]any, string) {
	t.Helper()
	var detail map[string]any
	var actor string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT detail, actor_type FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1`, action).Scan(&detail, &actor))
	return detail, actor
}

// TestSSHConfig reads the defaults, changes the settings (audited with before and after),
// refuses out-of-range values, and checks the permissions.
func TestSSHConfig(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	defaults := api.SSHConfig{AllowSudoPassword: false, DialTimeoutSec: 10, CommandTimeoutSec: 60}
	res := call(env, viewer, http.MethodGet, "system/ssh/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.SSHConfigResponse
	res.Decode(t, &got)
	require.Equal(t, api.SSHConfigResponse{Config: defaults, Defaults: defaults}, got)

	want := api.SSHConfig{AllowSudoPassword: true, DialTimeoutSec: 3, CommandTimeoutSec: 120}
	res = call(env, viewer, http.MethodPut, "system/ssh/config", want)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	res = call(env, admin, http.MethodPut, "system/ssh/config", want)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var put api.SSHConfig
	res.Decode(t, &put)
	require.Equal(t, want, put)
	res = call(env, admin, http.MethodGet, "system/ssh/config", nil)
	res.Decode(t, &got)
	require.Equal(t, api.SSHConfigResponse{Config: want, Defaults: defaults}, got)

	detail, actor := auditDetail(t, env, "system.ssh_config_changed")
	require.Equal(t, "user", actor)
	require.Equal(t, []any{
		map[string]any{"field": "allow_sudo_password", "before": false, "after": true},
		map[string]any{"field": "dial_timeout_sec", "before": float64(10), "after": float64(3)},
		map[string]any{"field": "command_timeout_sec", "before": float64(60), "after": float64(120)},
	}, detail["fields"])

	for _, bad := range []map[string]any{
		{"allow_sudo_password": false, "dial_timeout_sec": 0, "command_timeout_sec": 60},
		{"allow_sudo_password": false, "dial_timeout_sec": 121, "command_timeout_sec": 60},
		{"allow_sudo_password": false, "dial_timeout_sec": 10, "command_timeout_sec": 4},
		{"allow_sudo_password": false, "dial_timeout_sec": 10, "command_timeout_sec": 3601},
		{"allow_sudo_password": false, "dial_timeout_sec": 10},
		{"allow_sudo_password": false, "dial_timeout_sec": 10, "command_timeout_sec": 60, "extra": 1},
	} {
		res = call(env, admin, http.MethodPut, "system/ssh/config", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
		require.Equal(t, "validation_failed", res.Err(t).Error.Code)
	}
	res = call(env, admin, http.MethodGet, "system/ssh/config", nil)
	res.Decode(t, &got)
	require.Equal(t, want, got.Config, "refused changes store nothing")
}

// TestHostKeyEndpoints covers what needs no SSH server: unknown hosts, an empty key list,
// a conflict when nothing is pending, reset auditing, and permissions. The flows with a
// real sshd (trust on first use, pending keys, approval) are in package hostssh.
func TestHostKeyEndpoints(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	res := call(env, admin, http.MethodPost, "hosts", map[string]any{"hostname": "keys.example.com", "ip_address": "192.0.2.7"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	base := "hosts/" + h.Id.String() + "/host-keys"

	res = call(env, viewer, http.MethodGet, base, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var keys api.HostKeyList
	res.Decode(t, &keys)
	require.Equal(t, api.HostKeyList{HostId: h.Id, Keys: []api.HostKey{}}, keys)

	approve := map[string]any{"fingerprint_sha256": "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	res = call(env, viewer, http.MethodPost, base+":approve", approve)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, viewer, http.MethodPost, base+":reset", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	res = call(env, admin, http.MethodPost, base+":approve", approve)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "resource.conflict", res.Err(t).Error.Code)
	res = call(env, admin, http.MethodPost, base+":approve", map[string]any{"fingerprint_sha256": "short"})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	res = call(env, admin, http.MethodPost, base+":reset", nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	detail, actor := auditDetail(t, env, "host.keys_reset")
	require.Equal(t, "user", actor)
	require.Equal(t, []any{}, detail["removed"])

	unknown := "hosts/" + uuid.Must(uuid.NewV7()).String() + "/host-keys"
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, unknown, nil},
		{http.MethodPost, unknown + ":approve", approve},
		{http.MethodPost, unknown + ":reset", nil},
	} {
		res = call(env, admin, r.method, r.path, r.body)
		require.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", r.method, r.path, res.Body)
		require.Equal(t, "resource.not_found", res.Err(t).Error.Code)
	}

	// A deleted host's keys are gone with it.
	res = call(env, admin, http.MethodDelete, "hosts/"+h.Id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodGet, base, nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}
