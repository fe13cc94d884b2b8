package host_test

import (
	"context"
	"net/http"
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
