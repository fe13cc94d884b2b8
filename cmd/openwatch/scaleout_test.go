package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/worker"
	"github.com/openwatch/openwatch/internal/worker/testjobs"
	"github.com/openwatch/openwatch/internal/worker/workertest"
)

// scaleDeadline bounds every wait of the scale-out test; it is a deadline for a hung
// test, not a timing assertion.
const scaleDeadline = workertest.JobTimeout

// livenessTick is the period of the periodic job the test counts.
const livenessTick = 500 * time.Millisecond

// TestScaleOut runs two `openwatch serve --with-worker=false` and two `openwatch worker`
// processes on one PostgreSQL server of the test's own, and shows what scaling out
// promises: any request works on either serve, a periodic job runs once per period for
// the whole cluster, jobs spread over both workers, live events reach the streams of both
// serves, a SIGKILLed worker's job completes on the other worker, and a restart of
// PostgreSQL while clients write through both serves is survived by every process
// without help, losing no write that was acknowledged.
func TestScaleOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := workertest.BuildBinary(t)

	// A server of the test's own, since the test stops and starts it.
	srv, err := pgtest.StartServer(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postgres log:\n%s", srv.Log())
		}
		_ = srv.Stop()
	})
	dsn := srv.DSN()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pg.Migrate(ctx, pool))

	workerEnv := []string{
		"OPENWATCH_WORKER_RESCUE_AFTER=2s",
		"OPENWATCH_WORKER_CONCURRENCY=2",
		"OPENWATCH_WORKER_LIVENESS_TICK=" + livenessTick.String(),
	}
	s1 := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	s2 := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	w1 := workertest.StartWorkerProcess(t, bin, dsn, workerEnv...)
	w2 := workertest.StartWorkerProcess(t, bin, dsn, workerEnv...)
	serves := []*workertest.ServeProcess{s1, s2}
	jobs := workertest.NewInserter(t, pool)
	started := time.Now()

	// Every request works on either serve: log in on one, use the token on the other.
	c1, c2 := newScaleClient(t, s1, ""), newScaleClient(t, s2, "")
	password := s1.AdminPassword()
	require.NotEmpty(t, password, "the first serve creates the admin")
	login := c1.mustDo(http.MethodPost, "auth/login", "", map[string]string{"username": "admin", "password": password}, http.StatusOK)
	token := login["access_token"].(string)
	c1.token, c2.token = token, token
	c2.mustDo(http.MethodGet, "auth/me", "", nil, http.StatusOK)

	t.Run("requestsOnEitherServe", func(t *testing.T) {
		port := closedLoopbackPort(t)
		host := c1.mustDo(http.MethodPost, "hosts", "", map[string]any{"hostname": "made-on-a", "ip_address": "127.0.0.1", "port": port}, http.StatusCreated)
		got := c2.mustDo(http.MethodGet, "hosts/"+host["id"].(string), "", nil, http.StatusOK)
		require.Equal(t, "made-on-a", got["host"].(map[string]any)["hostname"])

		// An idempotency key used on one serve is honoured on the other: the same
		// request replays the stored answer, a different body under it is refused.
		body := map[string]any{"hostname": "idempotent", "ip_address": "127.0.0.1", "port": port}
		first := c1.mustDo(http.MethodPost, "hosts", "scale-key-1", body, http.StatusCreated)
		again := c2.mustDo(http.MethodPost, "hosts", "scale-key-1", body, http.StatusCreated)
		require.Equal(t, first["id"], again["id"], "the second serve replays the first's answer")
		body["hostname"] = "idempotent-other"
		refused := c2.mustDo(http.MethodPost, "hosts", "scale-key-1", body, http.StatusConflict)
		require.Contains(t, refused, "error")
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM hosts WHERE hostname LIKE 'idempotent%'").Scan(&n))
		require.Equal(t, 1, n, "one host for one idempotency key")

		// Signing out on one serve ends the session on the other too (its session cache
		// is invalidated through NOTIFY, so the refusal follows within moments).
		other := c2.mustDo(http.MethodPost, "auth/login", "", map[string]string{"username": "admin", "password": password}, http.StatusOK)
		o1, o2 := newScaleClient(t, s1, other["access_token"].(string)), newScaleClient(t, s2, other["access_token"].(string))
		o1.mustDo(http.MethodGet, "auth/me", "", nil, http.StatusOK)
		status, _, err := o2.do(http.MethodPost, "auth/logout", "", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, status)
		waitFor(t, "the signed-out token refused by the other serve", func() bool {
			status, _, err := o1.do(http.MethodGet, "auth/me", "", nil)
			require.NoError(t, err)
			return status == http.StatusUnauthorized
		})
		c1.mustDo(http.MethodGet, "auth/me", "", nil, http.StatusOK)
	})

	// Live events reach both serves: a discovery scan asked of one serve runs on a
	// worker, and the streams of both serves receive its events.
	st1, st2 := openScaleStream(t, s1, token), openScaleStream(t, s2, token)
	discover := func(via *scaleClient) string {
		sc := via.mustDo(http.MethodPost, "discovery/cidr", "", map[string]any{"cidr": "127.0.0.1/32", "ports": []int{closedLoopbackPort(t)}}, http.StatusAccepted)
		return sc["id"].(string)
	}
	t.Run("eventsReachBothServes", func(t *testing.T) {
		for _, via := range []*scaleClient{c1, c2} {
			id := discover(via)
			e1, e2 := st1.waitScan(t, id), st2.waitScan(t, id)
			require.Equal(t, e1, e2, "both streams carry the same event")
		}
	})

	// Jobs spread over both workers: each runs at most two jobs at once, so four gate
	// jobs that all started before the gate opens ran on both.
	t.Run("jobsSpreadOverWorkers", func(t *testing.T) {
		dir := t.TempDir()
		gate := filepath.Join(dir, "gate")
		var ids []int64
		var markers []string
		for i := range 4 {
			m := filepath.Join(dir, fmt.Sprintf("marker-%d", i))
			markers = append(markers, m)
			ids = append(ids, workertest.Insert(t, ctx, jobs, testjobs.GateArgs{Marker: m, Gate: gate}))
		}
		pids := map[string]bool{}
		waitFor(t, "all four gate jobs started", func() bool {
			clear(pids)
			for _, m := range markers {
				b, err := os.ReadFile(m)
				if err != nil {
					return false
				}
				pids[string(b)] = true
			}
			return true
		})
		require.Equal(t, map[string]bool{strconv.Itoa(w1.PID): true, strconv.Itoa(w2.PID): true}, pids)
		require.NoError(t, os.WriteFile(gate, nil, 0o600))
		attempted := map[string]bool{}
		for _, id := range ids {
			job := workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted)
			require.Len(t, job.AttemptedBy, 1)
			attempted[job.AttemptedBy[0]] = true
		}
		require.Len(t, attempted, 2, "river_job.attempted_by names both workers")
	})

	// A periodic job runs once per period for the cluster, not once per worker: the
	// liveness ticks are inserted by the elected leader alone, a period apart.
	t.Run("periodicJobRunsOnce", func(t *testing.T) {
		const periods = 6
		var inserted []time.Time
		waitFor(t, "periodic liveness ticks", func() bool {
			rows, err := pool.Query(ctx, "SELECT created_at FROM river_job WHERE kind = 'liveness_tick' AND state = 'completed' ORDER BY created_at")
			require.NoError(t, err)
			inserted = inserted[:0]
			for rows.Next() {
				var at time.Time
				require.NoError(t, rows.Scan(&at))
				inserted = append(inserted, at)
			}
			require.NoError(t, rows.Err())
			return len(inserted) >= periods
		})
		// Two inserters would put two ticks in one period; the leader spaces them a period
		// apart (River's scheduler may run one late, never early by more than a slack).
		for i := 1; i < len(inserted); i++ {
			gap := inserted[i].Sub(inserted[i-1])
			require.Greater(t, gap, livenessTick/2, "ticks %d and %d are %s apart: more than one process inserts them", i-1, i, gap)
		}
		var ran int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'liveness_tick' AND state = 'completed'`).Scan(&ran))
		require.Positive(t, ran)
	})

	// A SIGKILLed worker's running job is rescued and completes on the other worker.
	marker := filepath.Join(t.TempDir(), "blocked")
	blocked := workertest.Insert(t, ctx, jobs, testjobs.BlockArgs{Marker: marker})
	var holder string
	waitFor(t, "a worker starts the blocking job", func() bool {
		b, err := os.ReadFile(marker)
		holder = string(b)
		return err == nil && holder != ""
	})
	victim, survivor := w1, w2
	if holder == strconv.Itoa(w2.PID) {
		victim, survivor = w2, w1
	}
	require.Equal(t, strconv.Itoa(victim.PID), holder)
	victim.Kill()

	// PostgreSQL restarts while clients write through both serves. The rescue above
	// happens meanwhile: it needs River's rescuer on the surviving worker.
	t.Run("postgresRestartUnderLoad", func(t *testing.T) {
		load := startScaleLoad(t, []*scaleClient{c1, c2})
		load.waitAcked(t, 10)
		haltCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Halt(haltCtx))
		// Keep the database down until both serves have failed a request for it and every
		// process has lost its notification connection (the serves' event listeners and the
		// worker's River notifier), so each one has something to recover from.
		load.waitFailedOnEach(t, len(serves))
		for _, s := range serves {
			waitFor(t, s.String()+" notices the outage", func() bool {
				_, ok := s.FindLog("notification listener disconnected; retrying")
				return ok
			})
		}
		waitFor(t, survivor.String()+" notices the outage", func() bool {
			_, ok := survivor.FindLog("notifier.Notifier: Error running listener (will attempt reconnect after backoff)")
			return ok
		})
		require.NoError(t, srv.Resume(haltCtx))
		// The test's own pool is not under test: it drops the connections the restart broke.
		pool.Reset()
		// Every serve takes writes again; then the load stops.
		load.waitAckedOnEach(t, len(serves), load.ackedSoFar())
		acked := load.stop()
		t.Logf("load: %d writes acknowledged, %d failed while the database restarted", len(acked), load.failures())
		// A write that failed for the outage says so: 503, which a client may retry.
		require.Equal(t, []int{http.StatusServiceUnavailable}, load.failedStatuses(), "statuses of failed writes")

		ids := make([]uuid.UUID, 0, len(acked))
		for _, id := range acked {
			ids = append(ids, uuid.MustParse(id))
		}
		var found int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM hosts WHERE id = ANY($1) AND deleted_at IS NULL", ids).Scan(&found))
		require.Equal(t, len(ids), found, "every acknowledged write is stored")
		// Every process is still running: none needed a restart.
		for _, p := range []*workertest.Process{s1.Process, s2.Process, survivor} {
			require.False(t, p.Exited(), "%s exited", p)
		}
	})

	t.Run("killedWorkersJobCompletesOnTheOther", func(t *testing.T) {
		job := workertest.WaitJob(t, jobs, blocked, rivertype.JobStateCompleted)
		out := output[testjobs.BlockOutput](t, job)
		require.Equal(t, survivor.PID, out.PID, "the surviving worker finished the job")
		require.Contains(t, job.Errors[0].Error, "Stuck job rescued")
	})

	t.Run("everythingWorksAfterTheRestart", func(t *testing.T) {
		// The surviving worker works new jobs.
		id := workertest.Insert(t, ctx, jobs, worker.PingArgs{Note: "after restart"})
		out := output[worker.PingOutput](t, workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted))
		require.Equal(t, survivor.PID, out.PID)
		// The listeners of both serves reconnected: events still reach both streams.
		for _, via := range []*scaleClient{c2, c1} {
			scan := discover(via)
			e1, e2 := st1.waitScan(t, scan), st2.waitScan(t, scan)
			require.Equal(t, e1, e2)
		}
		// The periodic job still runs.
		var before time.Time
		require.NoError(t, pool.QueryRow(ctx, "SELECT now()").Scan(&before))
		waitFor(t, "a liveness tick after the restart", func() bool {
			var n int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'liveness_tick' AND state = 'completed' AND created_at > $1", before).Scan(&n))
			return n > 0
		})
	})
	t.Logf("scale-out checks took %s after the processes started", time.Since(started).Round(time.Millisecond))
}

// waitFor polls cond until it holds, failing the test after scaleDeadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(scaleDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %s", what, scaleDeadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closedLoopbackPort returns a loopback port nothing listens on.
func closedLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// scaleClient calls one serve's API.
type scaleClient struct {
	t     *testing.T
	srv   *workertest.ServeProcess
	http  *http.Client
	token string
}

func newScaleClient(t *testing.T, s *workertest.ServeProcess, token string) *scaleClient {
	return &scaleClient{t: t, srv: s, http: s.Client(), token: token}
}

// do sends a JSON request (with key as Idempotency-Key unless empty) and returns the
// status and decoded body; it never fails the test, so load goroutines may use it.
func (c *scaleClient) do(method, path, key string, body any) (int, map[string]any, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return 0, nil, err
		}
	}
	req, err := http.NewRequest(method, c.srv.URL+"/api/v1/"+path, &buf)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, nil
}

func (c *scaleClient) mustDo(method, path, key string, body any, want int) map[string]any {
	c.t.Helper()
	status, out, err := c.do(method, path, key, body)
	require.NoError(c.t, err)
	require.Equal(c.t, want, status, "%s %s on %s: %v", method, path, c.srv.URL, out)
	return out
}

// scaleStream is an SSE stream of one serve's events.
type scaleStream struct {
	mu   sync.Mutex
	seen map[string]string // scan id → id of its discovery.completed event
	done chan struct{}
}

func openScaleStream(t *testing.T, s *workertest.ServeProcess, token string) *scaleStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/events?topics=discovery", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	client := s.Client()
	client.Timeout = 0
	res, err := client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	st := &scaleStream{seen: map[string]string{}, done: make(chan struct{})}
	t.Cleanup(func() { cancel(); res.Body.Close(); <-st.done })
	go func() {
		defer close(st.done)
		sc := bufio.NewScanner(res.Body)
		var id, data string
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ": ")
			switch {
			case sc.Text() == "":
				var ev struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				}
				if json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "discovery.completed" {
					if scan, ok := ev.Data["scan_id"].(string); ok {
						st.mu.Lock()
						st.seen[scan] = id
						st.mu.Unlock()
					}
				}
				id, data = "", ""
			case k == "id":
				id = v
			case k == "data":
				data = v
			}
		}
	}()
	return st
}

// waitScan waits until the stream has carried scan's discovery.completed event and returns
// the event's id.
func (st *scaleStream) waitScan(t *testing.T, scan string) string {
	t.Helper()
	var id string
	waitFor(t, "discovery.completed of scan "+scan+" on a stream", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		var ok bool
		id, ok = st.seen[scan]
		return ok
	})
	return id
}

// scaleLoad creates hosts through several serves at once, one writer per serve, and
// records which creates were acknowledged (2xx) and which failed, by serve.
type scaleLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	acked    []string     // ids of created hosts
	ackBy    []int        // acknowledged creates per serve
	failBy   []int        // failed creates per serve
	statuses map[int]bool // HTTP statuses of failed creates
}

func startScaleLoad(t *testing.T, clients []*scaleClient) *scaleLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &scaleLoad{cancel: cancel, ackBy: make([]int, len(clients)), failBy: make([]int, len(clients)), statuses: map[int]bool{}}
	port := closedLoopbackPort(t)
	for i, c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				name := fmt.Sprintf("load-%d-%d", i, n)
				status, out, err := c.do(http.MethodPost, "hosts", "load-"+name,
					map[string]any{"hostname": name, "ip_address": "127.0.0.1", "port": port})
				l.mu.Lock()
				if err == nil && status == http.StatusCreated {
					l.acked = append(l.acked, out["id"].(string))
					l.ackBy[i]++
				} else {
					l.failBy[i]++
					if err == nil {
						l.statuses[status] = true
					}
				}
				l.mu.Unlock()
				if err != nil || status >= 400 {
					// Do not spin while the database is away.
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
		}()
	}
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *scaleLoad) stop() []string {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

func (l *scaleLoad) failures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, f := range l.failBy {
		n += f
	}
	return n
}

func (l *scaleLoad) failedStatuses() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.statuses))
}

func (l *scaleLoad) ackedSoFar() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ackBy)
}

func (l *scaleLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d acknowledged writes", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.acked) >= n
	})
}

func (l *scaleLoad) waitFailedOnEach(t *testing.T, serves int) {
	t.Helper()
	waitFor(t, "a failed write on every serve", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i := range serves {
			if l.failBy[i] == 0 {
				return false
			}
		}
		return true
	})
}

// waitAckedOnEach waits until every serve has acknowledged more writes than before.
func (l *scaleLoad) waitAckedOnEach(t *testing.T, serves int, before []int) {
	t.Helper()
	waitFor(t, "an acknowledged write on every serve after the restart", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i := range serves {
			if l.ackBy[i] <= before[i]+5 {
				return false
			}
		}
		return true
	})
}
