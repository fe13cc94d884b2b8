package openwatch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/pkg/openwatch"
)

// exampleServer stands in for an OpenWatch server in the examples: three hosts listed two
// at a time, a host list that is busy once (503 with Retry-After), and 404 for the rest.
func exampleServer() *httptest.Server {
	var served atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/auth/login":
			fmt.Fprint(w, `{"access_token":"a1","refresh_token":"r1","user":{"id":"01a24fb1-0000-7000-8000-000000000001","username":"ops","email":"ops@example.com","role":"admin"}}`)
		case r.URL.Path == "/api/v1/hosts" && r.Header.Get("Authorization") != "Bearer a1":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"auth.required","human_message":"Sign in first.","correlation_id":"c1","fault":"client","retryable":false}}`)
		case r.URL.Path == "/api/v1/hosts" && served.Add(1) == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/api/v1/hosts" && r.URL.Query().Get("cursor") == "":
			fmt.Fprint(w, `{"hosts":[{"id":"01a24fb1-0000-7000-8000-00000000000a","hostname":"web-1","ip_address":"192.0.2.10","port":22,"environment":"prod"},{"id":"01a24fb1-0000-7000-8000-00000000000b","hostname":"web-2","ip_address":"192.0.2.11","port":22,"environment":"prod"}],"next_cursor":"p2"}`)
		case r.URL.Path == "/api/v1/hosts":
			fmt.Fprint(w, `{"hosts":[{"id":"01a24fb1-0000-7000-8000-00000000000c","hostname":"db-1","ip_address":"192.0.2.20","port":22,"environment":"prod"}],"next_cursor":null}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"resource.not_found","human_message":"No such host.","correlation_id":"c2","fault":"client","retryable":false}}`)
		}
	}))
}

// Sign in with a password, then range over every host: the pages are fetched as the loop
// needs them, and the busy answer is retried after its Retry-After.
func ExampleClient_Hosts() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := openwatch.New(srv.URL, openwatch.WithRetry(3, time.Millisecond, time.Second))
	if err != nil {
		panic(err)
	}
	if _, err := c.Login(ctx, "ops", "correct horse battery staple", ""); err != nil {
		panic(err)
	}
	for h, err := range c.Hosts(ctx, nil) {
		if err != nil {
			panic(err)
		}
		fmt.Println(h.Hostname, h.IpAddress)
	}
	// Output:
	// web-1 192.0.2.10
	// web-2 192.0.2.11
	// db-1 192.0.2.20
}

// Errors from the server are *APIError values carrying the envelope.
func ExampleAPIError() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := openwatch.New(srv.URL, openwatch.WithBearerToken("a1"))

	_, err := c.FindHost(context.Background(), "01a24fb1-0000-7000-8000-0000000000ff")
	var apiErr *openwatch.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.CorrelationID)
	}
	fmt.Println(openwatch.IsCode(err, client.ErrorCodeResourceNotFound))
	// Output:
	// 404 resource.not_found c2
	// true
}

// Pages turns any cursor-paginated list into an iterator.
func ExamplePages() {
	pages := map[string]openwatch.Page[string]{
		"":   {Items: []string{"a", "b"}, Next: ptr("p2")},
		"p2": {Items: []string{"c"}},
	}
	seq := openwatch.Pages(context.Background(), func(_ context.Context, cursor *string) (openwatch.Page[string], error) {
		if cursor == nil {
			return pages[""], nil
		}
		return pages[*cursor], nil
	})
	all, err := openwatch.Collect(seq)
	fmt.Println(strings.Join(all, ","), err)
	// Output: a,b,c <nil>
}

func ptr[T any](v T) *T { return &v }

// Scan a host and wait for the result, with progress from the live event stream.
func ExampleClient_WaitScan() {
	ctx := context.Background()
	c, err := openwatch.New("https://openwatch.example:8443", openwatch.WithBearerToken("…"))
	if err != nil {
		panic(err)
	}
	h, err := c.FindHost(ctx, "web-1")
	if err != nil {
		panic(err)
	}
	s, err := c.StartScan(ctx, h.Host.Id, client.ScanRequest{})
	if err != nil {
		panic(err)
	}
	s, err = c.WaitScan(ctx, s.Id, openwatch.WaitOptions{OnProgress: func(p openwatch.Progress) {
		fmt.Printf("%s %d/%d\n", p.Status, p.Done, p.Total)
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Status, s.Counts.Pass, s.Counts.Fail)
}

// Sign a request with an API token's signing key; a POST made with IdempotencyKey is
// retried safely.
func ExampleWithAPIToken() {
	c, err := openwatch.New("https://openwatch.example:8443",
		openwatch.WithAPIToken("01a24fb1-0000-7000-8000-000000000123", "c2lnbmluZy1rZXk="))
	if err != nil {
		panic(err)
	}
	_, _ = c.StartScanBatchWithResponse(context.Background(), nil, client.ScanBatchRequest{}, openwatch.IdempotencyKey())
}
