package scan_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// plainHost registers a host with no credential: its scans fail at once, without a packet
// sent, once a worker runs them.
func (f *fixture) plainHost(name string, extra map[string]any) uuid.UUID {
	f.t.Helper()
	body := map[string]any{"hostname": name, "ip_address": "127.0.9.1", "port": 22}
	for k, v := range extra {
		body[k] = v
	}
	res := f.do(f.admin, http.MethodPost, "hosts", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	return h.Id
}

func (f *fixture) group(name string) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "groups", map[string]any{"name": name})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var g api.HostGroup
	res.Decode(f.t, &g)
	return g.Id
}

func (f *fixture) maintenance(path string) {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, path, map[string]any{"enabled": true})
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
}

func (f *fixture) startBatch(body any) api.ScanBatch {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "scan-batches", body)
	require.Equal(f.t, http.StatusAccepted, res.Status, "%s", res.Body)
	var b api.ScanBatch
	res.Decode(f.t, &b)
	return b
}

func (f *fixture) batch(id uuid.UUID) api.ScanBatch {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "scan-batches/"+id.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var b api.ScanBatch
	res.Decode(f.t, &b)
	return b
}

func (f *fixture) cancelBatch(id uuid.UUID) api.ScanBatch {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "scan-batches/"+id.String()+":cancel", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var b api.ScanBatch
	res.Decode(f.t, &b)
	return b
}

// batchScans lists a batch's scans through GET /scans, oldest first.
func (f *fixture) batchScans(id uuid.UUID) []api.Scan {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "scans?limit=200&batch_id="+id.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.ScanPage
	res.Decode(f.t, &page)
	require.Nil(f.t, page.NextCursor)
	slices.Reverse(page.Items)
	return page.Items
}

func hostsOf(scans []api.Scan) []uuid.UUID {
	out := make([]uuid.UUID, len(scans))
	for i, s := range scans {
		out[i] = s.HostId
	}
	return out
}

// dispatched returns the ids of a batch's scans that were given a job, oldest first, and
// checks that exactly those have one.
func (f *fixture) dispatched(batchID uuid.UUID, active bool) []uuid.UUID {
	f.t.Helper()
	require.Zero(f.t, f.count(`SELECT count(*) FROM scans s WHERE s.batch_id = $1 AND s.dispatched <> EXISTS (
		SELECT 1 FROM river_job j WHERE j.kind = 'compliance_scan' AND j.args->>'scan_id' = s.id::text)`, batchID),
		"a scan has a job exactly when it was dispatched")
	q := `SELECT id FROM scans WHERE batch_id = $1 AND dispatched`
	if active {
		q += ` AND status IN ('queued', 'running')`
	}
	rows, err := f.env.App.Pool.Query(context.Background(), q+` ORDER BY id`, batchID)
	require.NoError(f.t, err)
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		require.NoError(f.t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(f.t, rows.Err())
	return ids
}

func (f *fixture) batchEvents(id uuid.UUID, typ string) int {
	f.t.Helper()
	return f.count(`SELECT count(*) FROM events WHERE topic = 'scans' AND type = $1 AND data->>'batch_id' = $2`, typ, id.String())
}

// waitBatch polls a batch until it is no longer running.
func (f *fixture) waitBatch(id uuid.UUID) api.ScanBatch {
	f.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b := f.batch(id)
		if b.Status != api.ScanBatchStatusRunning {
			return b
		}
		require.True(f.t, time.Now().Before(deadline), "batch %s still running: %+v", id, b.Progress)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScanBatchSelection: what a batch request may get wrong, and which hosts each
// selector scans, with hosts in maintenance and busy hosts left out and counted.
func TestScanBatchSelection(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	g, gm := f.group("web-group"), f.group("frozen-group")
	a1 := f.plainHost("sel-a1", map[string]any{"environment": "prod", "tags": []string{"web"}})
	a2 := f.plainHost("sel-a2", map[string]any{"environment": "prod", "tags": []string{"db"}})
	a3 := f.plainHost("sel-a3", map[string]any{"environment": "staging", "tags": []string{"web"}})
	g1 := f.plainHost("grp-g1", map[string]any{"group_id": g})
	g2 := f.plainHost("grp-g2", map[string]any{"group_id": g})
	m1 := f.plainHost("grp-m1", map[string]any{"group_id": gm})
	b1 := f.plainHost("busy-b1", nil)
	d1 := f.plainHost("gone-d1", nil)
	f.maintenance("hosts/" + g2.String() + "/maintenance")
	f.maintenance("groups/" + gm.String() + ":maintenance")
	busy := f.startScan(b1, nil)
	res := f.do(f.admin, http.MethodDelete, "hosts/"+d1.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)

	unknown := uuid.New()
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no selector", map[string]any{"framework": "cis-ubuntu22"}, "selector"},
		{"two selectors", map[string]any{"host_ids": []uuid.UUID{a1}, "all": true}, "selector"},
		{"group and filter", map[string]any{"group_id": g, "filter": map[string]any{"environment": "prod"}}, "selector"},
		{"all false", map[string]any{"all": false}, "selector"},
		{"unknown host", map[string]any{"host_ids": []uuid.UUID{a1, unknown}}, "host_ids"},
		{"deleted host", map[string]any{"host_ids": []uuid.UUID{d1}}, "host_ids"},
		{"unknown group", map[string]any{"group_id": unknown}, "group_id"},
		{"unknown filter group", map[string]any{"filter": map[string]any{"group_id": unknown}}, "filter.group_id"},
		{"unknown framework", map[string]any{"all": true, "framework": "cis-windows"}, "framework"},
		{"unknown rule", map[string]any{"all": true, "rule_ids": []string{"ssh-disable-root-login", "no-such-rule"}}, "rule_ids"},
		{"framework and rules", map[string]any{"all": true, "framework": "all", "rule_ids": []string{"ssh-disable-root-login"}}, "rule_ids"},
	} {
		res := f.do(f.admin, http.MethodPost, "scan-batches", tc.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.name, res.Body)
		e := res.Err(t)
		require.Equal(t, tc.field, e.Error.Detail["field"], "%s: %s", tc.name, res.Body)
		if tc.name == "unknown host" {
			require.Contains(t, e.Error.HumanMessage, unknown.String())
		}
	}
	res = f.do(f.admin, http.MethodPost, "scan-batches", map[string]any{"all": true, "concurrency": 0})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodPost, "scan-batches", map[string]any{"all": true})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Zero(t, f.count(`SELECT count(*) FROM scan_batches`), "a refused batch changes nothing")
	require.Equal(t, 1, f.count(`SELECT count(*) FROM scans`))
	require.Zero(t, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.requested'`))

	// Each selector, then the batch is cancelled so that its hosts are free again.
	for _, tc := range []struct {
		name    string
		body    map[string]any
		hosts   []uuid.UUID
		skipped int
	}{
		{"all", map[string]any{"all": true}, []uuid.UUID{a1, a2, a3, g1}, 3},
		{"group", map[string]any{"group_id": g}, []uuid.UUID{g1}, 1},
		{"environment", map[string]any{"filter": map[string]any{"environment": "prod"}}, []uuid.UUID{a1, a2}, 0},
		{"environment and tag", map[string]any{"filter": map[string]any{"environment": "prod", "tag": "web"}}, []uuid.UUID{a1}, 0},
		{"tag", map[string]any{"filter": map[string]any{"tag": "web"}}, []uuid.UUID{a1, a3}, 0},
		{"q", map[string]any{"filter": map[string]any{"q": "sel-"}}, []uuid.UUID{a1, a2, a3}, 0},
		{"filter group", map[string]any{"filter": map[string]any{"group_id": g}}, []uuid.UUID{g1}, 1},
		{"host ids", map[string]any{"host_ids": []uuid.UUID{a3, b1, g2, m1, a3}}, []uuid.UUID{a3}, 3},
	} {
		tc.body["framework"] = "cis-ubuntu22"
		b := f.startBatch(tc.body)
		require.Equal(t, api.ScanBatchStatusRunning, b.Status, tc.name)
		require.Equal(t, len(tc.hosts), b.HostsTotal, tc.name)
		require.Equal(t, tc.skipped, b.HostsSkipped, tc.name)
		require.Equal(t, 10, b.Concurrency, "the default concurrency")
		require.Equal(t, api.ScanBatchProgress{Queued: len(tc.hosts)}, b.Progress, tc.name)
		require.Equal(t, "cis-ubuntu22", *b.Framework)
		require.Nil(t, b.FinishedAt)
		scans := f.batchScans(b.Id)
		require.ElementsMatch(t, tc.hosts, hostsOf(scans), tc.name)
		for _, sc := range scans {
			require.Equal(t, api.ScanTriggerBatch, sc.Trigger)
			require.Equal(t, b.Id, *sc.BatchId)
			require.Equal(t, "cis-ubuntu22", *sc.Framework)
			require.Equal(t, api.ScanStatusQueued, sc.Status)
		}
		require.Equal(t, b, f.batch(b.Id), tc.name)
		require.Equal(t, api.ScanBatchStatusCancelled, f.cancelBatch(b.Id).Status)
	}

	// The selector is kept as given.
	b := f.startBatch(map[string]any{"filter": map[string]any{"environment": "staging", "q": "sel"}, "rule_ids": []string{"ssh-disable-root-login"}, "concurrency": 5})
	require.Equal(t, "staging", *b.Selector.Filter.Environment)
	require.Equal(t, "sel", *b.Selector.Filter.Q)
	require.Nil(t, b.Selector.Filter.Tag)
	require.Nil(t, b.Selector.HostIds)
	require.Nil(t, b.Selector.All)
	require.Equal(t, []string{"ssh-disable-root-login"}, *b.RuleIds)
	require.Nil(t, b.Framework)
	require.Equal(t, 5, b.Concurrency)
	got := f.batch(b.Id)
	require.Equal(t, b.Selector, got.Selector)

	// A host busy with the staging batch's scan is left out of the next batch.
	next := f.startBatch(map[string]any{"host_ids": []uuid.UUID{a3, a1}})
	require.Equal(t, 1, next.HostsTotal)
	require.Equal(t, 1, next.HostsSkipped)
	require.Equal(t, []uuid.UUID{a1}, hostsOf(f.batchScans(next.Id)))
	require.Equal(t, []uuid.UUID{a3, a1}, *f.batch(next.Id).Selector.HostIds)

	// With no host left, the batch is made completed.
	empty := f.startBatch(map[string]any{"filter": map[string]any{"group_id": gm}})
	require.Equal(t, api.ScanBatchStatusCompleted, empty.Status)
	require.NotNil(t, empty.FinishedAt)
	require.Zero(t, empty.HostsTotal)
	require.Equal(t, 1, empty.HostsSkipped)
	require.Equal(t, api.ScanBatchProgress{}, empty.Progress)
	require.Equal(t, 1, f.batchEvents(empty.Id, "scan_batch.finished"))
	require.Empty(t, f.batchScans(empty.Id))

	require.Equal(t, 11, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.requested'`))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.requested' AND resource_id = $1
		AND detail->>'selector' = 'filter' AND (detail->>'hosts_skipped')::int = 1`, empty.Id.String()))
	require.Equal(t, busy.Id, f.onlyScanOf(b1), "the busy host kept its own scan")
}

// onlyScanOf returns the one scan of a host.
func (f *fixture) onlyScanOf(hostID uuid.UUID) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "scans?host_id="+hostID.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.ScanPage
	res.Decode(f.t, &page)
	require.Len(f.t, page.Items, 1)
	return page.Items[0].Id
}

// TestScanBatchDispatch: a batch gives jobs to as many scans as its concurrency allows,
// oldest first; each scan that ends (cancelled through the API, or failed as a worker
// ends it)
// makes room for the next, and the batch completes with its last scan, however many end
// at the same moment.
func TestScanBatchDispatch(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	var hosts []uuid.UUID
	for i := range 7 {
		hosts = append(hosts, f.plainHost("conc-"+strconv.Itoa(i), nil))
	}
	b := f.startBatch(map[string]any{"host_ids": hosts, "concurrency": 3})
	require.Equal(t, 7, b.HostsTotal)
	scans := f.batchScans(b.Id)
	require.Equal(t, hosts, hostsOf(scans), "one scan per host, in host order")
	s := make([]uuid.UUID, len(scans))
	for i, sc := range scans {
		s[i] = sc.Id
	}
	require.Equal(t, []uuid.UUID{s[0], s[1], s[2]}, f.dispatched(b.Id, true), "exactly concurrency scans are dispatched")
	require.Equal(t, 1, f.batchEvents(b.Id, "scan_batch.started"))

	// cancel cancels a scan through the API.
	cancel := func(id uuid.UUID) {
		t.Helper()
		res := f.do(f.admin, http.MethodPost, "scans/"+id.String()+":cancel", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	}
	// fail ends scans at the same moment, as workers do when their scans fail.
	fail := func(ids ...uuid.UUID) {
		t.Helper()
		errs := make([]error, len(ids))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				<-start
				errs[i] = env.App.Compliance.EndScan(context.Background(), id, "failed", "unreachable")
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
	}

	// A dispatched scan ends: the oldest waiting one takes its place.
	cancel(s[1])
	require.Equal(t, []uuid.UUID{s[0], s[2], s[3]}, f.dispatched(b.Id, true))
	// A waiting scan ends: nothing else changes.
	cancel(s[5])
	require.Equal(t, []uuid.UUID{s[0], s[2], s[3]}, f.dispatched(b.Id, true))
	require.Equal(t, api.ScanBatchProgress{Queued: 5, Cancelled: 2}, f.batch(b.Id).Progress)
	// Three end at once: the two waiting scans are dispatched, no more.
	fail(s[0], s[2], s[3])
	require.Equal(t, []uuid.UUID{s[4], s[6]}, f.dispatched(b.Id, true))
	got := f.batch(b.Id)
	require.Equal(t, api.ScanBatchStatusRunning, got.Status)
	require.Equal(t, api.ScanBatchProgress{Queued: 2, Failed: 3, Cancelled: 2}, got.Progress)
	// The last two end at once: the batch completes, once.
	fail(s[4], s[6])
	got = f.batch(b.Id)
	require.Equal(t, api.ScanBatchStatusCompleted, got.Status)
	require.NotNil(t, got.FinishedAt)
	require.Equal(t, api.ScanBatchProgress{Failed: 5, Cancelled: 2}, got.Progress)
	require.Equal(t, []uuid.UUID{s[0], s[1], s[2], s[3], s[4], s[6]}, f.dispatched(b.Id, false), "the scan cancelled while waiting never got a job")
	require.Equal(t, 1, f.batchEvents(b.Id, "scan_batch.finished"))
	require.Equal(t, 6, f.batchEvents(b.Id, "scan_batch.progress"), "one per scan that ended before the last")
	res := f.do(f.admin, http.MethodPost, "scan-batches/"+b.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "completed", res.Err(t).Error.Detail["status"])
}

// TestScanBatchCancel: cancelling a batch cancels its queued scans at once and asks its
// running ones to stop; a batch that has ended cannot be cancelled; batches are listed
// newest first.
func TestScanBatchCancel(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	var hosts []uuid.UUID
	for i := range 4 {
		hosts = append(hosts, f.plainHost("cancel-"+strconv.Itoa(i), nil))
	}
	b := f.startBatch(map[string]any{"host_ids": hosts, "concurrency": 2})
	scans := f.batchScans(b.Id)
	// A worker has started the first scan.
	_, err := env.App.Pool.Exec(context.Background(), `UPDATE scans SET status = 'running', started_at = now() WHERE id = $1`, scans[0].Id)
	require.NoError(t, err)
	require.Equal(t, api.ScanBatchProgress{Queued: 3, Running: 1}, f.batch(b.Id).Progress)

	res := f.do(viewer, http.MethodPost, "scan-batches/"+b.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodGet, "scan-batches/"+b.Id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	cancelled := f.cancelBatch(b.Id)
	require.Equal(t, api.ScanBatchStatusCancelled, cancelled.Status)
	require.NotNil(t, cancelled.FinishedAt)
	require.Equal(t, api.ScanBatchProgress{Running: 1, Cancelled: 3}, cancelled.Progress)
	require.Equal(t, cancelled, f.batch(b.Id))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM scans WHERE id = $1 AND status = 'running' AND cancel_requested`, scans[0].Id),
		"the running scan is asked to stop")
	require.Equal(t, 3, f.count(`SELECT count(*) FROM scans WHERE batch_id = $1 AND status = 'cancelled' AND finished_at IS NOT NULL`, b.Id))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.cancelled' AND resource_id = $1
		AND (detail->>'scans_cancelled')::int = 3 AND (detail->>'scans_stopping')::int = 1`, b.Id.String()))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.requested' AND resource_id = $1`, b.Id.String()))
	require.Equal(t, 1, f.batchEvents(b.Id, "scan_batch.finished"))

	res = f.do(f.admin, http.MethodPost, "scan-batches/"+b.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	e := res.Err(t)
	require.Equal(t, "resource.conflict", e.Error.Code)
	require.Equal(t, "cancelled", e.Error.Detail["status"])
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan_batch.cancelled'`), "a refused cancel writes nothing")
	res = f.do(f.admin, http.MethodPost, "scan-batches/"+uuid.NewString()+":cancel", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, "scan-batches/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	// The list, newest first, by status and page by page.
	second := f.startBatch(map[string]any{"host_ids": hosts[:2]})
	require.Equal(t, 1, second.HostsSkipped, "the scan asked to stop still runs")
	third := f.startBatch(map[string]any{"host_ids": hosts[:2]}) // both busy: completed at once
	require.Equal(t, api.ScanBatchStatusCompleted, third.Status)
	require.Equal(t, 2, third.HostsSkipped)
	list := func(query string) ([]uuid.UUID, *string) {
		t.Helper()
		res := f.do(viewer, http.MethodGet, "scan-batches"+query, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var page api.ScanBatchPage
		res.Decode(t, &page)
		ids := make([]uuid.UUID, len(page.Items))
		for i, it := range page.Items {
			ids[i] = it.Id
			if it.Id == second.Id {
				require.Equal(t, api.ScanBatchProgress{Queued: 1}, it.Progress)
			}
		}
		return ids, page.NextCursor
	}
	all, next := list("")
	require.Equal(t, []uuid.UUID{third.Id, second.Id, b.Id}, all)
	require.Nil(t, next)
	ids, _ := list("?status=running")
	require.Equal(t, []uuid.UUID{second.Id}, ids)
	ids, _ = list("?status=cancelled")
	require.Equal(t, []uuid.UUID{b.Id}, ids)
	var paged []uuid.UUID
	query := "?limit=1"
	for {
		ids, next := list(query)
		paged = append(paged, ids...)
		if next == nil {
			break
		}
		query = "?limit=1&cursor=" + *next
	}
	require.Equal(t, all, paged)
	res = f.do(viewer, http.MethodGet, "scan-batches?cursor=nope", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
}

// hangingServer accepts TCP connections on a loopback address and never answers, so a
// scan of a host there stays running until the test closes the connection.
type hangingServer struct {
	ln    net.Listener
	conns chan net.Conn
}

func startHanging(t *testing.T, addr string) *hangingServer {
	ln, err := net.Listen("tcp", addr+":0")
	require.NoError(t, err)
	h := &hangingServer{ln: ln, conns: make(chan net.Conn, 8)}
	t.Cleanup(func() {
		_ = ln.Close()
		for {
			select {
			case c := <-h.conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.conns <- c
		}
	}()
	return h
}

// next returns the next connection the server accepted.
func (h *hangingServer) next(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-h.conns:
		return c
	case <-time.After(time.Minute):
		t.Fatal("no scan connected to the hanging server")
		return nil
	}
}

func (h *hangingServer) port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// maxOverlap is the most scans that ran at once: a scan runs from its start to its end.
func maxOverlap(scans []api.Scan) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, s := range scans {
		if s.StartedAt != nil && s.FinishedAt != nil {
			edges = append(edges, edge{*s.StartedAt, 1}, edge{*s.FinishedAt, -1})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta // an end before a start at the same instant
		}
		return edges[i].at.Before(edges[j].at)
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most
}

// TestScanBatchRuns runs batches with the worker: the real sshd target's scan completes
// and hosts without a credential fail, never more than concurrency at once; a host put
// in maintenance while its scan waits is not scanned; a batch cancelled while a scan runs
// stays cancelled when that scan ends.
func TestScanBatchRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.6")
	realHost := f.host("batch-real")
	hosts := []uuid.UUID{realHost}
	for i := range 5 {
		hosts = append(hosts, f.plainHost("run-"+strconv.Itoa(i), nil))
	}
	b := f.startBatch(map[string]any{"host_ids": hosts, "concurrency": 2, "rule_ids": []string{"ssh-disable-root-login", maxDaysRule}})
	done := f.waitBatch(b.Id)
	require.Equal(t, api.ScanBatchStatusCompleted, done.Status)
	require.NotNil(t, done.FinishedAt)
	require.Equal(t, api.ScanBatchProgress{Completed: 1, Failed: 5}, done.Progress)
	scans := f.batchScans(b.Id)
	require.Len(t, scans, 6)
	for _, sc := range scans {
		if sc.HostId == realHost {
			require.Equal(t, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)
			require.Equal(t, 2, sc.RulesTotal)
			require.Equal(t, 2, sc.Counts.Pass+sc.Counts.Fail+sc.Counts.Skipped+sc.Counts.Error)
		} else {
			require.Equal(t, api.ScanStatusFailed, sc.Status)
			require.NotEmpty(t, *sc.Error)
		}
	}
	most := maxOverlap(scans)
	require.LessOrEqual(t, most, 2, "never more scans at once than the concurrency")
	require.Positive(t, most)
	require.Equal(t, 1, f.batchEvents(b.Id, "scan_batch.finished"))
	require.Equal(t, 5, f.batchEvents(b.Id, "scan_batch.progress"))

	// A host put in maintenance while its scan waits: the scan is cancelled as it starts.
	hang := startHanging(t, "127.0.0.7")
	stuck := f.hungHost("batch-hung", hang.port())
	frozen := f.plainHost("batch-frozen", nil)
	plain := f.plainHost("batch-plain", nil)
	b = f.startBatch(map[string]any{"host_ids": []uuid.UUID{stuck, frozen, plain}, "concurrency": 1})
	f.maintenance("hosts/" + frozen.String() + "/maintenance")
	conn := hang.next(t)
	scans = f.batchScans(b.Id)
	require.Equal(t, []uuid.UUID{stuck, frozen, plain}, hostsOf(scans))
	require.Eventually(t, func() bool { return f.batch(b.Id).Progress.Running == 1 }, time.Minute, 20*time.Millisecond)
	require.Equal(t, api.ScanBatchProgress{Queued: 2, Running: 1}, f.batch(b.Id).Progress)
	require.NoError(t, conn.Close())
	done = f.waitBatch(b.Id)
	require.Equal(t, api.ScanBatchStatusCompleted, done.Status)
	require.Equal(t, api.ScanBatchProgress{Failed: 2, Cancelled: 1}, done.Progress)
	skipped := f.wait(scans[1].Id)
	require.Equal(t, api.ScanStatusCancelled, skipped.Status)
	require.Equal(t, "the host is in maintenance", *skipped.Error)
	require.Zero(t, skipped.RulesTotal)

	// A batch cancelled while its scan runs: the scan's end dispatches nothing.
	other := f.plainHost("batch-other", nil)
	b = f.startBatch(map[string]any{"host_ids": []uuid.UUID{stuck, other}, "concurrency": 1})
	conn = hang.next(t)
	scans = f.batchScans(b.Id)
	require.Eventually(t, func() bool { return f.batch(b.Id).Progress.Running == 1 }, time.Minute, 20*time.Millisecond)
	cancelled := f.cancelBatch(b.Id)
	require.Equal(t, api.ScanBatchProgress{Running: 1, Cancelled: 1}, cancelled.Progress)
	require.NoError(t, conn.Close())
	ended := f.wait(scans[0].Id)
	require.NotEqual(t, api.ScanStatusCompleted, ended.Status)
	after := f.batch(b.Id)
	require.Equal(t, api.ScanBatchStatusCancelled, after.Status)
	require.Equal(t, cancelled.FinishedAt, after.FinishedAt)
	require.Zero(t, after.Progress.Queued+after.Progress.Running)
	require.Equal(t, []uuid.UUID{scans[0].Id}, f.dispatched(b.Id, false), "the cancelled batch dispatched nothing more")
	require.Equal(t, 1, f.batchEvents(b.Id, "scan_batch.finished"))
}

// hungHost registers a host at a hanging server, with a credential so that its scan dials.
func (f *fixture) hungHost(name string, port int) uuid.UUID {
	f.t.Helper()
	id := f.plainHost(name, map[string]any{"ip_address": "127.0.0.7", "port": port})
	u := f.srv.User(sshtest.UserRoot)
	res := f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "cred-" + name,
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return id
}

// BenchmarkScanBatchStart starts a batch over 10,000 hosts (one scan each, in one
// statement, and the jobs of the first 200) and cancels it; it reports the time of the
// start and of the cancel.
func BenchmarkScanBatchStart(b *testing.B) {
	env := apitest.New(b, noWorker)
	f := &fixture{t: b, env: env, admin: env.Admin()}
	const hosts = 10000
	_, err := host.Seed(context.Background(), env.App.Pool, hosts, 20)
	require.NoError(b, err)
	var start, cancel time.Duration
	for b.Loop() {
		t0 := time.Now()
		batch := f.startBatch(map[string]any{"all": true, "concurrency": 200})
		start += time.Since(t0)
		require.Equal(b, hosts, batch.HostsTotal)
		t0 = time.Now()
		require.Equal(b, hosts, f.cancelBatch(batch.Id).Progress.Cancelled)
		cancel += time.Since(t0)
	}
	b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms/op")
	b.ReportMetric(float64(cancel.Milliseconds())/float64(b.N), "cancel-ms/op")
}
