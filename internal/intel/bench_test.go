package intel_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// BenchmarkHostJobs reports issue 5's figures for one host on the local sshd, through the
// full HTTP stack: the wall time of POST /hosts/{id}/discovery:run and of POST
// /hosts/{id}/intelligence:collect (median over the iterations; run with -benchtime=5x
// for the median of 5), and the SSH connections and sessions each job opened, counted in
// sshd's own log.
//
//	go run ./scripts/withpg -- go test -run '^$' -bench BenchmarkHostJobs -benchtime=5x ./internal/intel/
func BenchmarkHostJobs(b *testing.B) {
	for _, op := range []string{"discovery:run", "intelligence:collect"} {
		b.Run(strings.Split(op, ":")[0], func(b *testing.B) {
			env := apitest.New(b)
			srv := sshtest.Start(b, sshtest.Options{Addr: "127.0.0.1"})
			f := &fixture{t: nil, env: env, admin: env.Admin(), srv: srv}
			id := benchHost(b, f)
			path := "hosts/" + id + "/" + op
			// One untimed run: trust on first use, learning the privilege mode, baseline.
			benchCall(b, f, path)
			var times []time.Duration
			time.Sleep(200 * time.Millisecond) // let sshd's log of the untimed run arrive
			before := srv.Log()
			for b.Loop() {
				start := time.Now()
				benchCall(b, f, path)
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			time.Sleep(200 * time.Millisecond)
			delta := strings.TrimPrefix(srv.Log(), before)
			conns := strings.Count(delta, "Connection from ")
			sessions := strings.Count(delta, "Starting session: ")
			slices.Sort(times)
			n := float64(len(times))
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(conns)/n, "ssh-conns/op")
			b.ReportMetric(float64(sessions)/n, "ssh-sessions/op")
			b.Logf("%s: median %s of %d runs (min %s, max %s); %.1f SSH connections and %.1f sessions per job",
				op, times[len(times)/2], len(times), times[0], times[len(times)-1], float64(conns)/n, float64(sessions)/n)
		})
	}
}

func benchHost(b *testing.B, f *fixture) string {
	b.Helper()
	res := f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: f.admin.AccessToken,
		JSON: map[string]any{"hostname": "bench", "ip_address": f.srv.Host, "port": f.srv.Port}})
	require.Equal(b, http.StatusCreated, res.Status, "%s", res.Body)
	var h struct {
		ID string `json:"id"`
	}
	res.Decode(b, &h)
	u := f.srv.User(sshtest.UserSudo)
	res = f.env.Do(apitest.Request{Method: http.MethodPost, Path: "credentials", Token: f.admin.AccessToken,
		JSON: map[string]any{"scope": "host", "scope_id": h.ID, "name": "bench", "username": u.Name,
			"auth_method": "ssh_key", "private_key": string(u.PrivateKey)}})
	require.Equal(b, http.StatusCreated, res.Status, "%s", res.Body)
	return h.ID
}

func benchCall(b *testing.B, f *fixture, path string) {
	b.Helper()
	res := f.env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: f.admin.AccessToken,
		Headers: map[string]string{"Idempotency-Key": fmt.Sprintf("b-%d", idemSeq.Add(1))}})
	require.Equal(b, http.StatusOK, res.Status, "%s", res.Body)
}
