package scan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
	"github.com/openwatch/openwatch/internal/worker/workertest"
)

// procClient calls the API of a served process.
type procClient struct {
	tb    testing.TB
	srv   *workertest.ServeProcess
	http  *http.Client
	token string
	n     int
}

func (c *procClient) call(method, path string, body any, want int) map[string]any {
	c.tb.Helper()
	var buf bytes.Buffer
	if body != nil {
		require.NoError(c.tb, json.NewEncoder(&buf).Encode(body))
	}
	req, err := http.NewRequest(method, c.srv.URL+"/api/v1/"+path, &buf)
	require.NoError(c.tb, err)
	req.Header.Set("Content-Type", "application/json")
	c.n++
	req.Header.Set("Idempotency-Key", fmt.Sprintf("rss-%d", c.n))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	require.NoError(c.tb, err)
	defer func() { _ = res.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	require.Equal(c.tb, want, res.StatusCode, "%s %s: %v", method, path, out)
	return out
}

// peakRSS is a process's peak resident set (VmHWM) in megabytes.
func peakRSS(tb testing.TB, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(tb, err)
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			require.NoError(tb, err)
			return kb / 1024
		}
	}
	tb.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// BenchmarkWorkerRSS20Scans: a separate `openwatch worker` process runs 20 scans of the
// whole corpus at once (20 hosts on the Debian target); it reports the worker's peak
// resident memory.
//
//	go run ./scripts/withpg -- go test -run '^$' -bench BenchmarkWorkerRSS20Scans -benchtime 1x ./internal/scan/
func BenchmarkWorkerRSS20Scans(b *testing.B) {
	bin := workertest.BuildBinary(b)
	dsn := pgtest.NewDSN(b)
	target := sshtest.Start(b, sshtest.Options{Addr: "127.0.0.8"})
	serve := workertest.StartServeProcess(b, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	worker := workertest.StartWorkerProcess(b, bin, dsn)
	c := &procClient{tb: b, srv: serve, http: serve.Client()}
	login := c.call(http.MethodPost, "auth/login", map[string]any{"username": "admin", "password": serve.AdminPassword()}, http.StatusOK)
	c.token = login["access_token"].(string)
	u := target.User(sshtest.UserRoot)
	var hosts []string
	for i := range 20 {
		h := c.call(http.MethodPost, "hosts", map[string]any{"hostname": fmt.Sprintf("rss-%02d", i), "ip_address": target.Host, "port": target.Port}, http.StatusCreated)
		id := h["id"].(string)
		c.call(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "root-" + id,
			"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)}, http.StatusCreated)
		hosts = append(hosts, id)
	}
	for b.Loop() {
		var scans []string
		for _, id := range hosts {
			sc := c.call(http.MethodPost, "hosts/"+id+"/scans", nil, http.StatusAccepted)
			scans = append(scans, sc["id"].(string))
		}
		deadline := time.Now().Add(5 * time.Minute)
		for _, id := range scans {
			for {
				sc := c.call(http.MethodGet, "scans/"+id, nil, http.StatusOK)
				if st := sc["status"]; st == "completed" {
					break
				} else if st != "queued" && st != "running" {
					b.Fatalf("scan %s ended %v: %v", id, st, sc["error"])
				}
				require.True(b, time.Now().Before(deadline), "scans still running")
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(peakRSS(b, worker.PID), "MB-worker-peak-RSS")
}
