package scan_test

import (
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
	c := workertest.NewAPI(b, serve)
	u := target.User(sshtest.UserRoot)
	var hosts []string
	for i := range 20 {
		h := c.Call(http.MethodPost, "hosts", map[string]any{"hostname": fmt.Sprintf("rss-%02d", i), "ip_address": target.Host, "port": target.Port}, http.StatusCreated)
		id := h["id"].(string)
		c.Call(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "root-" + id,
			"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)}, http.StatusCreated)
		hosts = append(hosts, id)
	}
	for b.Loop() {
		var scans []string
		for _, id := range hosts {
			sc := c.Call(http.MethodPost, "hosts/"+id+"/scans", nil, http.StatusAccepted)
			scans = append(scans, sc["id"].(string))
		}
		deadline := time.Now().Add(5 * time.Minute)
		for _, id := range scans {
			for {
				sc := c.Call(http.MethodGet, "scans/"+id, nil, http.StatusOK)
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
