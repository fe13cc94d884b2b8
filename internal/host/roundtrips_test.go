package host_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestHostDetailIsOneQuery: GET /hosts/{id} reads the host and its liveness in one round
// trip to the database, probed or not.
func TestHostDetailIsOneQuery(t *testing.T) {
	t.Parallel()
	log := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, log, 4)
	env := apitest.New(t, func(d *app.Deps) { d.Pool = pool })
	admin := env.Admin()

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: seedHost})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	get := func(correlation string) api.HostDetailResponse {
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts/" + h.Id.String(), Token: admin.AccessToken,
			Headers: map[string]string{"X-Correlation-Id": correlation}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var d api.HostDetailResponse
		res.Decode(t, &d)
		return d
	}
	get("warm-up") // the caller's session is loaded once, then cached
	require.Nil(t, get("never-probed").Liveness)
	require.Len(t, log.Of("never-probed"), 1, "%q", log.Of("never-probed"))
	// Alone, it is the single-host read, whose generic plan the database keeps (the list
	// form is planned on every call: several times the cost of reading one host).
	require.Contains(t, log.Of("never-probed")[0], "-- name: HostDetailGet ")

	_, err := pool.Exec(context.Background(), `UPDATE host_liveness SET monitoring_state = 'online',
		reachability_status = 'reachable', last_probe_at = now() WHERE host_id = $1`, h.Id)
	require.NoError(t, err)
	d := get("probed")
	require.Equal(t, api.MonitoringStateOnline, *d.Liveness.MonitoringState)
	require.Len(t, log.Of("probed"), 1, "%q", log.Of("probed"))
}

// TestHostDetailsAskedTogetherShareAQuery: the details asked while a detail query runs are
// read together by the next query, and each caller gets its own host (or a 404).
func TestHostDetailsAskedTogetherShareAQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, log, 4)
	env := apitest.New(t, func(d *app.Deps) { d.Pool = pool })
	admin := env.Admin()
	var ids []string
	for i := range 8 {
		body := map[string]any{"hostname": fmt.Sprintf("together-%d.example.com", i), "ip_address": "127.0.0.1"}
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: body})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var h api.HostResponse
		res.Decode(t, &h)
		ids = append(ids, h.Id.String())
	}
	missing := uuid.NewString()
	get := func(id string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts/" + id, Token: admin.AccessToken})
	}
	require.Equal(t, http.StatusOK, get(ids[0]).Status) // the session is cached

	// Hold the first detail query on a lock, so that the others queue behind it.
	lock, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	_, err = lock.Exec(ctx, `LOCK TABLE host_liveness IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	before := log.Containing("-- name: HostDetail")

	asked := append(slices.Clone(ids), ids...)
	asked = append(asked, missing)
	answers := make([]*apitest.Response, len(asked))
	var wg sync.WaitGroup
	wg.Go(func() { answers[0] = get(asked[0]) })
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%name: HostDetail%'`).Scan(&waiting))
		return waiting == 1
	}, 10*time.Second, 5*time.Millisecond)
	for i := 1; i < len(asked); i++ {
		wg.Go(func() { answers[i] = get(asked[i]) })
	}
	time.Sleep(300 * time.Millisecond) // let them reach the queue
	require.NoError(t, lock.Rollback(ctx))
	wg.Wait()

	for i, res := range answers {
		if asked[i] == missing {
			require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
			continue
		}
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var d api.HostDetailResponse
		res.Decode(t, &d)
		require.Equal(t, asked[i], d.Host.Id.String())
	}
	queries := log.Containing("-- name: HostDetail") - before
	require.Less(t, queries, 5, "%d details asked together took %d queries", len(asked), queries)
}

// TestHostCreateCommitsOnce: POST /hosts with an Idempotency-Key commits once, in two round
// trips: BEGIN, the key's reservation, the insert (which returns the host) and the audit
// head's lock together, then the audit event, the stored response and COMMIT together.
func TestHostCreateCommitsOnce(t *testing.T) {
	t.Parallel()
	log := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, log, 4)
	env := apitest.New(t, func(d *app.Deps) { d.Pool = pool })
	admin := env.Admin()
	create := func(correlation, key string, body map[string]any) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: body,
			Headers: map[string]string{"X-Correlation-Id": correlation, "Idempotency-Key": key}})
	}
	env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: admin.AccessToken}) // the session is cached

	res := create("first", "key-1", seedHost)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	sent := log.Of("first")
	require.Len(t, sent, 2, "%q", sent)
	require.Regexp(t, `^\[BEGIN \| -- name: IdempotencyReserve .* \| -- name: HostInsert .* \| -- name: AuditHeadLock .*\]$`,
		strings.ReplaceAll(sent[0], "\n", " "))
	require.Regexp(t, `^\[-- name: AuditEventAppend .* \| -- name: IdempotencyComplete .* \| COMMIT\]$`, strings.ReplaceAll(sent[1], "\n", " "))
	commits := 0
	for _, s := range sent {
		commits += strings.Count(s, "COMMIT")
	}
	require.Equal(t, 1, commits)

	// The same request again is the stored response.
	again := create("again", "key-1", seedHost)
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(res.Body), string(again.Body))

	// A refusal changes nothing, is stored for replay, and its key is not reusable.
	dup := create("dup", "key-2", seedHost)
	require.Equal(t, http.StatusConflict, dup.Status, "%s", dup.Body)
	dupAgain := create("dup", "key-2", seedHost) // a replay carries the first answer's correlation id
	require.Equal(t, http.StatusConflict, dupAgain.Status)
	require.Equal(t, "true", dupAgain.Header.Get("Idempotent-Replayed"))
	var hosts, events int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM hosts`).Scan(&hosts))
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'host.created'`).Scan(&events))
	require.Equal(t, 1, hosts)
	require.Equal(t, 1, events)
}
