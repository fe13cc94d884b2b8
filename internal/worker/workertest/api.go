package workertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// API calls the API of a serve process, signed in as its admin by SignIn.
type API struct {
	t     testing.TB
	srv   *ServeProcess
	http  *http.Client
	token string
	n     atomic.Int64
}

// NewAPI returns a client of srv's API, signed in as the initial admin.
func NewAPI(t testing.TB, srv *ServeProcess) *API {
	t.Helper()
	a := &API{t: t, srv: srv, http: srv.Client()}
	login := a.Call(http.MethodPost, "auth/login", map[string]any{"username": "admin", "password": srv.AdminPassword()}, http.StatusOK)
	a.token = login["access_token"].(string)
	return a
}

// Call sends a JSON request (with a fresh Idempotency-Key) to path under /api/v1, fails the
// test unless the status is want, and returns the decoded JSON object.
func (a *API) Call(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		require.NoError(a.t, json.NewEncoder(&buf).Encode(body))
	}
	req, err := http.NewRequest(method, a.srv.URL+"/api/v1/"+path, &buf)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("workertest-%d-%d", a.srv.PID, a.n.Add(1)))
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	require.NoError(a.t, err)
	defer func() { _ = res.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	require.Equal(a.t, want, res.StatusCode, "%s %s: %v", method, path, out)
	return out
}
