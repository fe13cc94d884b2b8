package httpserver_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/openwatch/openwatch/internal/apitest"
)

// raw sends a request straight to the handler: a YAML answer is not what the spec's JSON
// schemas (which apitest checks every answer against) describe.
func raw(t *testing.T, env *apitest.Env, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/"+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	env.App.Handler().ServeHTTP(rec, req.WithContext(context.Background()))
	return rec
}

// sameAsJSON asserts that the YAML answer to path?format=yaml holds what the JSON answer
// to path holds, with the same status.
func sameAsJSON(t *testing.T, env *apitest.Env, path, token string) map[string]any {
	t.Helper()
	j := raw(t, env, path, token)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	y := raw(t, env, path+sep+"format=yaml", token)
	require.Equal(t, j.Code, y.Code)
	require.Equal(t, "application/yaml", y.Header().Get("Content-Type"))
	require.NotEmpty(t, y.Header().Get("X-Correlation-Id"))
	var fromJSON, fromYAML map[string]any
	require.NoError(t, json.Unmarshal(j.Body.Bytes(), &fromJSON))
	require.NoError(t, yaml.Unmarshal(y.Body.Bytes(), &fromYAML), "%s", y.Body)
	require.False(t, strings.HasPrefix(strings.TrimSpace(y.Body.String()), "{"), "block style, not JSON: %s", y.Body)
	// Correlation ids differ per request; numbers decode as float64 from JSON and int from YAML.
	normalize := func(v map[string]any) map[string]any {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		out := map[string]any{}
		require.NoError(t, json.Unmarshal(b, &out))
		if e, ok := out["error"].(map[string]any); ok {
			delete(e, "correlation_id")
		}
		return out
	}
	require.Equal(t, normalize(fromJSON), normalize(fromYAML))
	return fromYAML
}

func TestFormatYAML(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	env.CreateUser("yaml-user", "viewer")

	list := sameAsJSON(t, env, "users?limit=5", admin.AccessToken)
	require.Len(t, list["users"], 2)
	me := sameAsJSON(t, env, "auth/me", admin.AccessToken)
	require.NotEmpty(t, me)

	notFound := sameAsJSON(t, env, "users/"+uuid.NewString(), admin.AccessToken)
	require.Equal(t, "resource.not_found", notFound["error"].(map[string]any)["code"], "%v", notFound)
	unauthenticated := sameAsJSON(t, env, "users", "")
	require.Equal(t, "auth.required", unauthenticated["error"].(map[string]any)["code"])

	// A large answer is compressed for a client that asks, as YAML.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/roles?format=yaml", nil)
	req.Header.Set("Authorization", "Bearer "+admin.AccessToken)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	env.App.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
	require.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	zr, err := gzip.NewReader(rec.Body)
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	var roles map[string]any
	require.NoError(t, yaml.Unmarshal(plain, &roles), "%s", plain)
	require.NotEmpty(t, roles)
}

func TestFormatOtherValues(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "users?format=xml", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	e := res.Err(t).Error
	require.Equal(t, "validation_failed", e.Code)
	require.Equal(t, "format", e.Detail["field"])

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users?format=json", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))

	// GET /reports/{id}/export gives format its own meaning (json, csv, pdf, ...): csv
	// reaches the operation (a 404 for a report that does not exist), and yaml is refused
	// by the operation's own enum, never converted.
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "reports/" + uuid.NewString() + "/export?format=csv", Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "reports/" + uuid.NewString() + "/export?format=yaml", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.Contains(t, res.Err(t).Error.HumanMessage, "oscal-plan", "the operation's own list of formats")
}

func TestFormatYAMLLeavesStreamsAndFilesAlone(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()

	// An event stream stays a stream.
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "events?format=yaml", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream"))

	// A document that is not JSON is sent byte for byte.
	y := raw(t, env, "openapi.yaml?format=yaml", "")
	require.Equal(t, http.StatusOK, y.Code)
	plain := raw(t, env, "openapi.yaml", "")
	require.Equal(t, plain.Body.Bytes(), y.Body.Bytes())

	// A binary download (the KRL) is not converted.
	k := raw(t, env, "ssh-ca/krl?format=yaml", admin.AccessToken)
	require.NotEqual(t, "application/yaml", k.Header().Get("Content-Type"), "%d %s", k.Code, k.Body)
	if k.Code == http.StatusOK {
		require.Equal(t, raw(t, env, "ssh-ca/krl", admin.AccessToken).Body.Bytes(), k.Body.Bytes())
	}
}
