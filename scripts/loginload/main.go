// Command loginload fires concurrent sign-ins at an OpenWatch server on loopback and
// prints their latency percentiles and status counts. scripts/bench-login.sh runs it.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	target := flag.String("url", "", "server base URL, e.g. https://localhost:18443 (loopback only)")
	ca := flag.String("ca", "", "CA certificate file to trust")
	user := flag.String("user", "admin", "username")
	password := flag.String("password", "", "password")
	n := flag.Int("n", 50, "concurrent sign-ins")
	flag.Parse()
	if err := run(*target, *ca, *user, *password, *n); err != nil {
		fmt.Fprintln(os.Stderr, "loginload:", err)
		os.Exit(1)
	}
}

func run(target, caFile, user, password string, n int) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing %s: loopback only", host)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: n,
	}}
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	var mu sync.Mutex
	var lat []time.Duration
	codes := map[int]int{}
	byCode := map[int][]time.Duration{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			res, err := client.Post(target+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
			d := time.Since(t0)
			code := 0
			if err == nil {
				code = res.StatusCode
				res.Body.Close()
			}
			mu.Lock()
			lat = append(lat, d)
			codes[code]++
			byCode[code] = append(byCode[code], d)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("%d concurrent sign-ins: p50 %s  p99 %s  max %s  statuses %v\n",
		n, pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), codes)
	for _, code := range []int{200, 429, 503} {
		if d := byCode[code]; len(d) > 0 {
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			fmt.Printf("  %d: %d answers, p50 %s, max %s\n", code, len(d), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
		}
	}
	if bad := n - codes[200] - codes[429] - codes[503]; bad > 0 {
		return fmt.Errorf("%d sign-ins ended otherwise than 200, 429 or 503", bad)
	}
	return nil
}
