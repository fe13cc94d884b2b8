package host_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// queryLog records the SQL each request sends, by correlation id.
type queryLog struct {
	mu  sync.Mutex
	sql map[string][]string
}

func (l *queryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if id := reqinfo.CorrelationID(ctx); id != "" {
		l.mu.Lock()
		l.sql[id] = append(l.sql[id], data.SQL)
		l.mu.Unlock()
	}
	return ctx
}

func (*queryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch (pipeline) is one round trip: it is logged as its statements joined by " | ".
func (l *queryLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	var sqls []string
	for _, q := range data.Batch.QueuedQueries {
		sqls = append(sqls, q.SQL)
	}
	return l.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{SQL: strings.Join(sqls, " | ")})
}

func (*queryLog) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*queryLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (l *queryLog) of(id string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sql[id]
}

// TestHostDetailIsOneQuery: GET /hosts/{id} reads the host and its liveness in one round
// trip to the database, probed or not.
func TestHostDetailIsOneQuery(t *testing.T) {
	t.Parallel()
	log := &queryLog{sql: map[string][]string{}}
	cfg, err := pgxpool.ParseConfig(pgtest.NewDSN(t))
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
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
	require.Len(t, log.of("never-probed"), 1, "%q", log.of("never-probed"))

	_, err = pool.Exec(context.Background(), `UPDATE host_liveness SET monitoring_state = 'online',
		reachability_status = 'reachable', last_probe_at = now() WHERE host_id = $1`, h.Id)
	require.NoError(t, err)
	d := get("probed")
	require.Equal(t, api.MonitoringStateOnline, *d.Liveness.MonitoringState)
	require.Len(t, log.of("probed"), 1, "%q", log.of("probed"))
}

// TestHostCreateCommitsOnce: POST /hosts with an Idempotency-Key commits once, in four round
// trips: BEGIN with the key's reservation, the insert (which returns the host), the audit
// head's lock, then the audit event, the stored response and COMMIT together.
func TestHostCreateCommitsOnce(t *testing.T) {
	t.Parallel()
	log := &queryLog{sql: map[string][]string{}}
	cfg, err := pgxpool.ParseConfig(pgtest.NewDSN(t))
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	env := apitest.New(t, func(d *app.Deps) { d.Pool = pool })
	admin := env.Admin()
	create := func(correlation, key string, body map[string]any) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: body,
			Headers: map[string]string{"X-Correlation-Id": correlation, "Idempotency-Key": key}})
	}
	env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: admin.AccessToken}) // the session is cached

	res := create("first", "key-1", seedHost)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	sent := log.of("first")
	require.Len(t, sent, 4, "%q", sent)
	require.True(t, strings.HasPrefix(sent[0], "BEGIN | -- name: IdempotencyReserve"), "%q", sent[0])
	require.Contains(t, sent[1], "-- name: HostInsert")
	require.Contains(t, sent[2], "-- name: AuditHeadLock")
	require.Regexp(t, `^-- name: AuditEventAppend .* \| -- name: IdempotencyComplete .* \| COMMIT$`, strings.ReplaceAll(sent[3], "\n", " "))
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
