package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/idempotency"
)

// A spec with one operation that requires Idempotency-Key, to test the chain on its own.
const requiredKeySpec = `
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: /api/v1}]
paths:
  /things/{id}:check:
    post:
      operationId: checkThing
      x-required-permission: user:write
      x-idempotency: required
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: Idempotency-Key, in: header, required: true, schema: {type: string, minLength: 1, maxLength: 128}}
      responses:
        "200": {description: ok}
  /things/{id}:archive:
    post:
      operationId: archiveThing
      x-required-permission: user:write
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        "200": {description: ok}
  /things/{id}:
    post:
      operationId: touchThing
      x-required-permission: user:write
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
`

// memStore is an in-memory IdempotencyStore with the same semantics as the SQL one.
type memStore struct {
	mu   sync.Mutex
	rows map[string]*memRow
}

type memRow struct {
	hash   []byte
	stored *idempotency.Stored
}

func (m *memStore) Reserve(_ context.Context, principal, key string, hash []byte, _ string) (idempotency.Outcome, *idempotency.Stored, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[principal+"|"+key]
	switch {
	case !ok:
		m.rows[principal+"|"+key] = &memRow{hash: hash}
		return idempotency.Reserved, nil, nil
	case !bytes.Equal(r.hash, hash):
		return idempotency.Mismatch, nil, nil
	case r.stored == nil:
		return idempotency.InProgress, nil, nil
	}
	return idempotency.Replay, r.stored, nil
}

func (m *memStore) Complete(_ context.Context, principal, key string, resp idempotency.Stored) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[principal+"|"+key].stored = &resp
	return nil
}

func (m *memStore) Release(_ context.Context, principal, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, principal+"|"+key)
	return nil
}

// Within has the SQL store's semantics without a transaction: the reservation is dropped
// unless fn keeps its response.
func (m *memStore) Within(ctx context.Context, principal, key string, hash []byte, correlationID string,
	fn func(context.Context) (idempotency.Stored, bool)) (idempotency.Outcome, *idempotency.Stored, error) {
	outcome, stored, err := m.Reserve(ctx, principal, key, hash, correlationID)
	if err != nil || outcome != idempotency.Reserved {
		return outcome, stored, err
	}
	resp, keep := fn(ctx)
	if !keep {
		return outcome, nil, m.Release(ctx, principal, key)
	}
	return outcome, nil, m.Complete(ctx, principal, key, resp)
}

func chainServer(t *testing.T, handler echo.HandlerFunc) *Server {
	return chainServerFor(t, func(string) echo.HandlerFunc { return handler })
}

func chainServerFor(t *testing.T, handler func(opID string) echo.HandlerFunc) *Server {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(requiredKeySpec))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	ops, err := authz.LoadOperations(doc)
	require.NoError(t, err)
	p := &authz.Principal{UserID: uuid.New(), Role: authz.RoleAdmin, Permissions: authz.RolePermissions(authz.RoleAdmin)}
	s := &Server{echo: echo.New(), logger: slog.New(slog.DiscardHandler), doc: doc, auth: staticAuth{p},
		idem: &memStore{rows: map[string]*memRow{}}, bodyLimit: 1 << 20, paths: newPathMatcher(ops), now: time.Now}
	s.echo.HTTPErrorHandler = s.errorHandler
	s.echo.Use(s.correlatedAndLogged, s.guarded)
	r := &opRouter{s: s, byPath: map[string]*authz.Operation{}, seen: map[string]bool{}}
	for _, op := range ops {
		r.byPath[op.Method+" "+echoPath(op.Path)] = op
	}
	for _, op := range ops {
		r.add(op.Method, echoPath(op.Path), handler(op.ID))
	}
	require.NoError(t, r.err)
	r.register()
	s.echo.RouteNotFound("/api/*", s.apiNotFound)
	return s
}

func post(s *Server, path, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Header.Set("Authorization", "Bearer t")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, req)
	return rec
}

func TestRequiredIdempotencyKey(t *testing.T) {
	calls := 0
	s := chainServer(t, func(c echo.Context) error {
		calls++
		require.Equal(t, "0190a0c4-0000-7000-8000-000000000001", c.Param("id"), "literal colons in paths route correctly")
		return c.JSON(http.StatusOK, map[string]int{"call": calls})
	})
	path := "/api/v1/things/0190a0c4-0000-7000-8000-000000000001:check"

	rec := post(s, path, "")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	var env envelope
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
	require.Equal(t, "Idempotency-Key is required", env.Error.HumanMessage)
	require.Equal(t, 0, calls)

	first := post(s, path, "k-1")
	require.Equal(t, http.StatusOK, first.Code)
	again := post(s, path, "k-1")
	require.Equal(t, http.StatusOK, again.Code)
	require.Equal(t, first.Body.String(), again.Body.String())
	require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	require.Equal(t, 1, calls, "a replay does not run the handler")

	other := post(s, "/api/v1/things/0190a0c4-0000-7000-8000-000000000002:check", "k-1")
	require.Equal(t, http.StatusConflict, other.Code, "the same key for another request")
	require.Contains(t, other.Body.String(), "idempotency.key_reused")

	rec = post(s, "/api/v1/things/not-a-uuid:check", "k-2")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), `"field":"id"`)
}

func TestServerErrorsReleaseTheKey(t *testing.T) {
	fail := true
	s := chainServer(t, func(c echo.Context) error {
		if fail {
			return errBoom
		}
		return c.NoContent(http.StatusOK)
	})
	path := "/api/v1/things/0190a0c4-0000-7000-8000-000000000001:check"
	require.Equal(t, http.StatusInternalServerError, post(s, path, "k").Code)
	fail = false
	require.Equal(t, http.StatusOK, post(s, path, "k").Code, "a retry after a server error runs again")
}

var errBoom = &echo.HTTPError{Code: http.StatusInternalServerError, Message: "boom"}

func TestCustomMethodsShareAPrefix(t *testing.T) {
	s := chainServerFor(t, func(opID string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.String(http.StatusOK, opID+" "+c.Param("id")) }
	})
	id := "0190a0c4-0000-7000-8000-000000000001"
	rec := post(s, "/api/v1/things/"+id+":check", "k")
	require.Equal(t, "checkThing "+id, rec.Body.String())
	rec = post(s, "/api/v1/things/"+id+":archive", "")
	require.Equal(t, "archiveThing "+id, rec.Body.String())
	rec = post(s, "/api/v1/things/plain", "")
	require.Equal(t, "touchThing plain", rec.Body.String(), "the plain {id} route of the same method still answers")
	rec = httptest.NewRecorder()
	s.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/things/"+id+":archive", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "POST", rec.Header().Get("Allow"))
}
