package activity_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

// feed reads one page of GET /activity.
func feed(t *testing.T, env *apitest.Env, s apitest.Session, v url.Values) api.ActivityPage {
	t.Helper()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "activity?" + v.Encode(), Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.ActivityPage
	res.Decode(t, &p)
	return p
}

// TestPagesAndHiddenCounts: paging through the feed with any page size sees every item a
// caller may read once, newest first; the items of sources a caller may not read are never
// shown and, summed over the pages, counted exactly once.
func TestPagesAndHiddenCounts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()

	// Hosts (each writes an audit event) and monitoring transitions of them.
	for i := range 4 {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
			JSON: map[string]any{"hostname": "feed" + strconv.Itoa(i), "ip_address": "127.0.0.1"}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var h api.HostResponse
		res.Decode(t, &h)
		for _, state := range []string{"online", "down"} {
			_, err := env.App.Pool.Exec(ctx, `INSERT INTO host_monitoring_history (host_id, monitoring_state) VALUES ($1, $2)`, h.Id, state)
			require.NoError(t, err)
		}
	}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	all := feed(t, env, admin, url.Values{"limit": {"200"}})
	require.Nil(t, all.NextCursor)
	require.Zero(t, all.HiddenCount, "an admin reads every source")
	bySource := map[api.ActivitySource]int{}
	for _, it := range all.Items {
		bySource[it.Source]++
	}
	require.Equal(t, 8, bySource["monitoring"])
	audit := bySource["audit"]
	require.GreaterOrEqual(t, audit, 4)

	for _, limit := range []int{1, 3, 5, 200} {
		var seen []uuid.UUID
		hidden := 0
		v := url.Values{"limit": {strconv.Itoa(limit)}}
		for range 100 {
			p := feed(t, env, viewer, v)
			require.LessOrEqual(t, len(p.Items), limit)
			for _, it := range p.Items {
				require.NotEqual(t, api.ActivitySource("audit"), it.Source, "a viewer lacks audit:read")
				seen = append(seen, it.Id)
			}
			hidden += p.HiddenCount
			if p.NextCursor == nil {
				break
			}
			v.Set("cursor", *p.NextCursor)
		}
		var want []uuid.UUID
		for _, it := range all.Items {
			if it.Source != "audit" {
				want = append(want, it.Id)
			}
		}
		require.Equal(t, want, seen, "limit %d: every readable item once, newest first", limit)
		require.Equal(t, audit, hidden, "limit %d: every hidden item counted once", limit)
	}

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "activity?cursor=bm90LWEtY3Vyc29y", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "cursor", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "activity?limit=201", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
}
