package host_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

// The seed's own example body.
var seedHost = map[string]any{
	"hostname": "rhel9-web01.example.com", "ip_address": "10.0.1.50", "port": 22,
	"environment": "production", "tags": []string{"web", "rhel9"},
}

func TestSeedExample(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: seedHost})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	require.Equal(t, "rhel9-web01.example.com", h.Hostname)
	require.Equal(t, "10.0.1.50", h.IpAddress)
	require.Equal(t, []string{"web", "rhel9"}, *h.Tags)
	require.False(t, *h.MaintenanceMode)

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: seedHost})
	require.Equal(t, http.StatusConflict, res.Status, "the same body again is 409")
	require.Equal(t, "hostname", res.Err(t).Error.Detail["field"])

	other := map[string]any{"hostname": "rhel9-web01.example.com", "ip_address": "10.0.1.51", "environment": "staging"}
	require.Equal(t, http.StatusCreated, env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: other}).Status,
		"the same hostname in another environment is fine")

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts/" + h.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var d api.HostDetailResponse
	res.Decode(t, &d)
	require.Nil(t, d.Liveness, "no probe has run")
	require.Zero(t, d.ComplianceSummary.Total)

	ev := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?action=host.created", Token: admin.AccessToken})
	var page api.AuditEventsPage
	ev.Decode(t, &page)
	require.Len(t, page.Items, 2, "every create is audited")
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"missing ip":   {map[string]any{"hostname": "a"}, "ip_address"},
		"bad ip":       {map[string]any{"hostname": "a", "ip_address": "10.0.0.300"}, "ip_address"},
		"port range":   {map[string]any{"hostname": "a", "ip_address": "10.0.0.1", "port": 70000}, "port"},
		"bad hostname": {map[string]any{"hostname": "bad host!", "ip_address": "10.0.0.1"}, "hostname"},
		"no group":     {map[string]any{"hostname": "a", "ip_address": "10.0.0.1", "group_id": "0190a0c4-0000-7000-8000-000000000001"}, "group_id"},
	} {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: tc.body})
		require.Equal(t, http.StatusBadRequest, res.Status, name)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], name)
	}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: map[string]any{"hostname": "v6", "ip_address": "2001:db8::1"}})
	require.Equal(t, http.StatusCreated, res.Status)
	var h api.HostResponse
	res.Decode(t, &h)
	require.Equal(t, "default", h.Environment)
	require.Equal(t, 22, h.Port)
}

func TestConcurrentCreatesOfOneHostname(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var created, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
				JSON: map[string]any{"hostname": "race.example.com", "ip_address": fmt.Sprintf("10.9.0.%d", i+1)}})
			mu.Lock()
			defer mu.Unlock()
			switch res.Status {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				conflicts++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, created, "exactly one create wins")
	require.Equal(t, 19, conflicts)

	wg = sync.WaitGroup{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
				Headers: map[string]string{"Idempotency-Key": "one-host"},
				JSON:    map[string]any{"hostname": "idem.example.com", "ip_address": "10.9.1.1"}})
		}()
	}
	wg.Wait()
	var page api.HostListResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts?q=idem", Token: admin.AccessToken}).Decode(t, &page)
	require.Len(t, page.Hosts, 1, "20 replays of one Idempotency-Key make one host")
}

func TestListFiltersPaginationAndDelete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("v", env.CreateUser("v", authz.RoleViewer))
	for i := range 5 {
		envName := "production"
		if i%2 == 1 {
			envName = "staging"
		}
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: map[string]any{
			"hostname": fmt.Sprintf("web%02d.example.com", i), "ip_address": fmt.Sprintf("10.1.0.%d", i+1),
			"environment": envName, "tags": []string{fmt.Sprintf("rack%d", i%2)}, "display_name": fmt.Sprintf("Web %d", i)}})
		require.Equal(t, http.StatusCreated, res.Status)
	}
	list := func(q string) []string {
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts" + q, Token: viewer.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.HostListResponse
		res.Decode(t, &p)
		var names []string
		for _, h := range p.Hosts {
			names = append(names, h.Hostname)
		}
		return names
	}
	require.Len(t, list(""), 5)
	require.Equal(t, []string{"web01.example.com", "web03.example.com"}, list("?environment=staging"))
	require.Equal(t, []string{"web00.example.com", "web02.example.com", "web04.example.com"}, list("?tag=rack0"))
	require.Equal(t, []string{"web03.example.com"}, list("?q=WEB03"))
	require.Equal(t, []string{"web02.example.com"}, list("?q=10.1.0.3"))
	require.Equal(t, []string{"web04.example.com"}, list("?q=web%204"), "display names are searched too")

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts?limit=2", Token: viewer.AccessToken})
	var p api.HostListResponse
	res.Decode(t, &p)
	require.Len(t, p.Hosts, 2)
	require.NotNil(t, p.NextCursor)
	require.Equal(t, []string{"web02.example.com", "web03.example.com"}, list("?limit=2&cursor="+*p.NextCursor))

	id := p.Hosts[0].Id.String()
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + id + "/maintenance", Token: admin.AccessToken, JSON: map[string]bool{"enabled": true}})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, []string{"web00.example.com"}, list("?maintenance=true"))
	res = env.Do(apitest.Request{Method: http.MethodPut, Path: "hosts/" + id + "/maintenance", Token: admin.AccessToken, JSON: map[string]bool{"enabled": false}})
	require.Equal(t, http.StatusOK, res.Status, "PUT behaves like POST")
	require.Empty(t, list("?maintenance=true"))

	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "hosts/" + id, Token: admin.AccessToken, JSON: map[string]any{"port": 2222, "tags": []string{"x"}}})
	require.Equal(t, http.StatusOK, res.Status)
	var h api.HostResponse
	res.Decode(t, &h)
	require.Equal(t, 2222, h.Port)
	require.Equal(t, []string{"x"}, *h.Tags)

	require.Equal(t, http.StatusForbidden, env.Do(apitest.Request{Method: http.MethodDelete, Path: "hosts/" + id, Token: viewer.AccessToken}).Status)
	require.Equal(t, http.StatusNoContent, env.Do(apitest.Request{Method: http.MethodDelete, Path: "hosts/" + id, Token: admin.AccessToken}).Status)
	require.Equal(t, http.StatusNotFound, env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts/" + id, Token: admin.AccessToken}).Status)
	require.Len(t, list(""), 4, "deleted hosts leave the list")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
		JSON: map[string]any{"hostname": "web00.example.com", "ip_address": "10.1.0.1", "environment": "production"}})
	require.Equal(t, http.StatusCreated, res.Status, "the hostname is reusable after delete")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts?cursor=nope", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
}

func TestListsAreGzippedWhenAsked(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for i := range 20 {
		env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
			JSON: map[string]any{"hostname": fmt.Sprintf("gz%02d.example.com", i), "ip_address": fmt.Sprintf("10.7.0.%d", i+1)}})
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/hosts", nil)
	req.Header.Set("Authorization", "Bearer "+admin.AccessToken)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	env.App.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
	zr, err := gzip.NewReader(rec.Body)
	require.NoError(t, err)
	var page api.HostListResponse
	require.NoError(t, json.NewDecoder(zr).Decode(&page))
	require.Len(t, page.Hosts, 20)
	require.Empty(t, rec.Header().Get("Content-Length"), "no length of the uncompressed body on a compressed one")

	// Uncompressed, the page says its length, so it is written whole, not chunked.
	plain := env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, plain.Status)
	require.Equal(t, strconv.Itoa(len(plain.Body)), plain.Header.Get("Content-Length"))
}

// TestListCacheFollowsEveryWriter: a repeated request is served from the page cache, and a
// cached page changes on the very next request after a change through the API, and soon
// after a change made directly in the database (another process, COPY, SQL), which the
// statement triggers announce.
func TestListCacheFollowsEveryWriter(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	names := func() []string {
		var p api.HostListResponse
		env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: admin.AccessToken}).Decode(t, &p)
		var out []string
		for _, h := range p.Hosts {
			out = append(out, h.Hostname)
		}
		return out
	}
	create := func(name string) {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken, JSON: map[string]any{"hostname": name, "ip_address": "10.8.0.1"}})
		require.Equal(t, http.StatusCreated, res.Status)
	}
	create("one.example.com")
	// The listener may still be connecting: until it is, nothing is served from the cache.
	deadline := time.Now().Add(5 * time.Second)
	for {
		require.Equal(t, []string{"one.example.com"}, names())
		hits, _ := env.App.Hosts.CacheStats()
		if hits > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "a repeated page is served from the cache")
		time.Sleep(10 * time.Millisecond)
	}
	hits, misses := env.App.Hosts.CacheStats()
	require.Equal(t, []string{"one.example.com"}, names(), "served again, from the cache")
	h2, m2 := env.App.Hosts.CacheStats()
	require.Equal(t, [2]uint64{hits + 1, misses}, [2]uint64{h2, m2}, "the same page again is a cache hit")
	create("two.example.com")
	require.Equal(t, []string{"one.example.com", "two.example.com"}, names(), "an API change shows on the very next request")
	_, m3 := env.App.Hosts.CacheStats()
	require.Equal(t, m2+1, m3, "a change empties the cache")

	_, err := env.App.Pool.Exec(context.Background(), `UPDATE hosts SET hostname = 'renamed.example.com' WHERE hostname = 'one.example.com'`)
	require.NoError(t, err)
	deadline = time.Now().Add(5 * time.Second)
	for names()[0] != "renamed.example.com" {
		require.True(t, time.Now().Before(deadline), "a direct database change reaches the cache")
		time.Sleep(10 * time.Millisecond)
	}
}
