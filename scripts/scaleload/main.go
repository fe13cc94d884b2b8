// Command scaleload sends authenticated GET requests to one or more OpenWatch serve
// processes on loopback, round-robin, from a fixed number of concurrent clients, for a
// fixed time per path, and prints one line per path: the path, requests per second, the
// 50th, 95th and 99th latency percentiles in milliseconds, and how many answers were not
// 2xx (tab-separated). scripts/bench-scaleout.sh runs it against one serve, then two.
//
//	scaleload -targets https://localhost:18443,https://localhost:18444 -ca a.crt,b.crt \
//	  -token TOKEN -c 32 -d 10s /hosts?limit=50 /fleet/score
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	targets := flag.String("targets", "", "comma-separated base URLs of the serve processes (loopback only)")
	cas := flag.String("ca", "", "comma-separated CA certificate files to trust")
	token := flag.String("token", "", "bearer token")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "time per path")
	warm := flag.Duration("warmup", time.Second, "unmeasured load before each path")
	flag.Parse()
	if err := run(strings.Split(*targets, ","), strings.Split(*cas, ","), *token, *conc, *dur, *warm, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "scaleload:", err)
		os.Exit(1)
	}
}

func run(targets, caFiles []string, token string, conc int, dur, warm time.Duration, paths []string) error {
	if len(paths) == 0 {
		return errors.New("no paths given")
	}
	if conc < 1 {
		return errors.New("-c must be at least 1")
	}
	for _, t := range targets {
		u, err := url.Parse(t)
		if err != nil {
			return err
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("refusing %s: loopback only", t)
		}
	}
	roots := x509.NewCertPool()
	for _, f := range caFiles {
		if f == "" {
			continue
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", f)
		}
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: conc,
		MaxIdleConns:        conc * len(targets),
	}}
	for _, p := range paths {
		if warm > 0 {
			measure(client, targets, token, p, conc, warm)
		}
		r := measure(client, targets, token, p, conc, dur)
		if r.n == 0 {
			return fmt.Errorf("%s: no request completed", p)
		}
		fmt.Printf("%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\n", p, float64(r.n)/r.elapsed.Seconds(),
			ms(r.pct(0.50)), ms(r.pct(0.95)), ms(r.pct(0.99)), r.failed)
	}
	return nil
}

type result struct {
	n       int
	failed  int
	elapsed time.Duration
	lat     []time.Duration
}

func (r result) pct(p float64) time.Duration { return r.lat[int(p*float64(len(r.lat)-1))] }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure runs conc clients for dur, each sending requests for path one after another to
// the next target in turn (one counter for all clients, so the targets share the load
// evenly).
func measure(client *http.Client, targets []string, token, path string, conc int, dur time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var next atomic.Uint64
	var mu sync.Mutex
	var all result
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			failed := 0
			for ctx.Err() == nil {
				target := targets[next.Add(1)%uint64(len(targets))]
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"/api/v1"+path, nil)
				if err != nil {
					failed++
					break
				}
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				lat = append(lat, time.Since(t0))
				if res.StatusCode/100 != 2 {
					failed++
				}
			}
			mu.Lock()
			all.lat = append(all.lat, lat...)
			all.failed += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	all.n = len(all.lat)
	slices.Sort(all.lat)
	return all
}
