package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// eventually retries check until it passes or a few seconds go by; notifications arrive
// asynchronously.
func eventually(t *testing.T, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevocationReachesTheCache: a session revoked by any process stops working on the next
// request once the change is announced on the invalidation channel.
func TestRevocationReachesTheCache(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ctx := context.Background()
	s := env.Login("dora", env.CreateUser("dora", authz.RoleViewer))
	me := func(s apitest.Session) int {
		return env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status
	}
	require.Equal(t, http.StatusOK, me(s), "first use loads the session into the cache")

	sid := strings.Split(s.Cookie, ".")[0]
	_, err := env.App.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1`, sid)
	require.NoError(t, err)
	_, err = env.App.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, auth.InvalidationChannel, "session:"+sid)
	require.NoError(t, err)
	eventually(t, func() bool { return me(s) == http.StatusUnauthorized })
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie})
	require.Equal(t, http.StatusUnauthorized, res.Status, "the cookie of the same session is dead too")
	require.Contains(t, res.Err(t).Error.HumanMessage, "session has ended")

	s2 := env.Login("dora", "pw-dora-0123456789")
	require.Equal(t, http.StatusOK, me(s2))
	_, err = env.App.Pool.Exec(ctx, `UPDATE users SET disabled_at = now() WHERE username = 'dora'`)
	require.NoError(t, err)
	_, err = env.App.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, auth.InvalidationChannel, "user:"+strings.TrimSpace(userID(t, env, "dora")))
	require.NoError(t, err)
	eventually(t, func() bool { return me(s2) == http.StatusUnauthorized })
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "dora", "password": "pw-dora-0123456789"}})
	require.Equal(t, http.StatusUnauthorized, res.Status, "a disabled user cannot sign in")
}

func userID(t *testing.T, env *apitest.Env, username string) string {
	var id string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE username = $1`, username).Scan(&id))
	return id
}

func TestExpiredAccessTokenIsRejected(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	s := env.Login("eve", env.CreateUser("eve", authz.RoleViewer))
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status)
	now = now.Add(16 * time.Minute)
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Equal(t, "auth.invalid_token", res.Err(t).Error.Code)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie}).Status,
		"the browser session outlives one access token")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := env.Login("rita", env.CreateUser("rita", authz.RoleViewer))
	refresh := func(token string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/refresh", JSON: map[string]string{"refresh_token": token}})
	}
	res := refresh(s.RefreshToken)
	require.Equal(t, http.StatusOK, res.Status)
	var next api.AuthLoginResponse
	res.Decode(t, &next)
	require.NotEqual(t, s.RefreshToken, next.RefreshToken, "rotated")
	require.Equal(t, "rita", next.User.Username)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: next.AccessToken}).Status)

	res = refresh(s.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, res.Status, "a used refresh token is refused")
	require.Contains(t, res.Err(t).Error.HumanMessage, "already used")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: next.AccessToken}).Status,
		"reuse revokes the whole family on the very next request")
	require.Equal(t, http.StatusUnauthorized, refresh(next.RefreshToken).Status, "including the newest refresh token")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie}).Status)
	require.Equal(t, http.StatusUnauthorized, refresh("owr_unknown").Status)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("lou", authz.RoleViewer)
	s := env.Login("lou", pw)
	other := env.Login("lou", pw)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/logout", Token: s.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status)
	require.Contains(t, res.Header.Get("Set-Cookie"), "Max-Age=0")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status,
		"logout takes effect on the very next request")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie}).Status)
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/refresh", JSON: map[string]string{"refresh_token": s.RefreshToken}}).Status)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: other.AccessToken}).Status,
		"other sessions live on")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("pat", authz.RoleViewer)
	s := env.Login("pat", pw)
	other := env.Login("pat", pw)
	change := func(cur, next string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/password:change", Token: s.AccessToken,
			JSON: map[string]string{"current_password": cur, "new_password": next}})
	}
	require.Equal(t, http.StatusUnauthorized, change("wrong-password", "a-new-password-9").Status)
	res := change(pw, "short")
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "new_password", res.Err(t).Error.Detail["field"])
	require.Equal(t, http.StatusBadRequest, change(pw, "qwertyuiop").Status, "common passwords are refused")
	require.Equal(t, http.StatusNoContent, change(pw, "a-new-password-9").Status)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status, "this session lives on")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: other.AccessToken}).Status, "others end")
	env.Login("pat", "a-new-password-9")
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	queries := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, queries, 4)
	env := apitest.New(t, func(d *app.Deps) {
		d.Pool = pool
		d.TuneAuth = func(c *auth.Config) { c.LoginRate, c.LoginBurst = 0.001, 3 }
	})
	pw := env.CreateUser("rl", authz.RoleViewer)
	login := func(password, correlation string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "rl", "password": password},
			Headers: map[string]string{"X-Correlation-Id": correlation}})
	}
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, login("wrong-password", fmt.Sprint("failed-", i)).Status)
	}
	res := login(pw, "refused-1")
	require.Equal(t, http.StatusTooManyRequests, res.Status, "the burst is spent, even for the right password")
	require.Equal(t, "rate_limit.exceeded", res.Err(t).Error.Code)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	require.True(t, res.Err(t).Error.Retryable)
	require.Equal(t, http.StatusTooManyRequests, login(pw, "refused-2").Status)
	require.Equal(t, http.StatusTooManyRequests, login("wrong-password", "refused-3").Status)

	// The refusals are answered without waiting for the database: no query, not even the
	// audit event, runs before the 429 (the event is recorded after, coalesced).
	for _, id := range []string{"refused-1", "refused-2", "refused-3"} {
		require.Empty(t, queries.Of(id), "%s ran %q", id, queries.Of(id))
	}
	require.NotEmpty(t, queries.Of("failed-0"), "the tracer sees the requests' queries")

	// Repeats are counted in one event (two if a background flush fell between them).
	require.NoError(t, env.App.Auth.FlushRefusals(context.Background()))
	events := auditCount(t, env, "auth.rate_limited")
	require.True(t, events == 1 || events == 2, "%d events for three refusals", events)
	var count int
	var first string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT sum((detail->>'count')::int), min(correlation_id)
		FROM audit_events WHERE action = 'auth.rate_limited'`).Scan(&count, &first))
	require.Equal(t, 3, count, "every refusal is counted")
	require.Equal(t, "refused-1", first, "an event is the first refusal's")
	verified, err := env.App.Audit.Verify(context.Background())
	require.NoError(t, err)
	require.True(t, verified.OK, "the chain holds: %+v", verified)
}

func TestDefaultHashConcurrencyLeavesACPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for procs, want := range map[int]int{1: 1, 2: 1, 3: 2, 8: 7} {
		runtime.GOMAXPROCS(procs)
		require.Equal(t, want, auth.DefaultHashConcurrency(), "GOMAXPROCS %d", procs)
	}
}

func auditCount(t *testing.T, env *apitest.Env, action string) int {
	var n int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n))
	return n
}

func TestAccountLockoutGrows(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) {
		d.NowFunc = func() time.Time { return now }
		d.TuneAuth = func(c *auth.Config) { c.LoginRate, c.LoginBurst = 1000, 1000 }
	})
	pw := env.CreateUser("lock", authz.RoleViewer)
	login := func(user, password string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": user, "password": password}})
	}
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, login("lock", "wrong-password").Status, "failure %d", i+1)
		require.Equal(t, http.StatusUnauthorized, login("ghost", "wrong-password").Status, "an unknown user fails the same way")
	}
	res := login("lock", pw)
	require.Equal(t, http.StatusTooManyRequests, res.Status, "locked after 5 failures, even with the right password")
	require.Equal(t, "30", res.Header.Get("Retry-After"))
	ghost := login("ghost", "wrong-password")
	require.Equal(t, http.StatusTooManyRequests, ghost.Status, "unknown usernames lock too, so locking reveals nothing")
	require.Equal(t, "30", ghost.Header.Get("Retry-After"))
	require.Equal(t, 1, auditCount(t, env, "auth.locked_out"), "locking the real account is audited")

	now = now.Add(31 * time.Second)
	require.Equal(t, http.StatusUnauthorized, login("lock", "wrong-password").Status)
	res = login("lock", pw)
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.Equal(t, "60", res.Header.Get("Retry-After"), "the back-off doubles")

	now = now.Add(61 * time.Second)
	env.Login("lock", pw)
	require.Equal(t, http.StatusUnauthorized, login("lock", "wrong-password").Status, "success resets the count")
	require.Equal(t, http.StatusOK, login("lock", pw).Status)
}

func TestIdleSessionsEnd(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := env.Login("idle", env.CreateUser("idle", authz.RoleViewer))
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie}).Status)
	_, err := env.App.Pool.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '31 minutes'`)
	require.NoError(t, err)
	env.App.Auth.InvalidateUser(userIDOf(t, env, "idle")) // as the next cache reload would
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie})
	require.Equal(t, http.StatusUnauthorized, res.Status, "30 minutes without a request end the session")
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/refresh",
		JSON: map[string]string{"refresh_token": s.RefreshToken}}).Status, "and refresh cannot revive it")
}

func userIDOf(t testing.TB, env *apitest.Env, username string) uuid.UUID {
	var id uuid.UUID
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id))
	return id
}

// BenchmarkAuthenticateBearer measures what every authenticated request pays: verifying the
// access token, checking its session is live (from the invalidation-backed cache) and
// resolving the permission.
func BenchmarkAuthenticateBearer(b *testing.B) {
	env := apitest.New(b)
	s := env.Login("bench", env.CreateUser("bench", authz.RoleAdmin))
	ctx := context.Background()
	run := func(b *testing.B, flush bool) {
		b.ReportAllocs()
		for b.Loop() {
			if flush {
				env.App.Auth.InvalidateUser(userIDOf(b, env, "bench"))
			}
			p, err := env.App.Auth.AuthenticateBearer(ctx, s.AccessToken)
			if err != nil || !p.Can(authz.PermUserRead) {
				b.Fatal(err)
			}
		}
	}
	b.Run("cached", func(b *testing.B) { run(b, false) })
	// Every iteration reloads the session, its user, roles and settings from PostgreSQL
	// (plus one query here to find the user id): the cost after an invalidation.
	b.Run("reload", func(b *testing.B) { run(b, true) })
}
