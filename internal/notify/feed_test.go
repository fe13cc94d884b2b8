package notify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
)

func feed(t *testing.T, e *apitest.Env, s apitest.Session, query string) api.FeedPage {
	t.Helper()
	res := e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/feed" + query, Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.FeedPage
	res.Decode(t, &p)
	return p
}

// TestFeed: a raised alert reaches every holder of alert:read as one item; reading one
// item or all of them changes only the reader's state; a user without alert:read sees no
// alert items; an item addressed to one user reaches that user alone.
func TestFeed(t *testing.T) {
	t.Parallel()
	e, admin := env(t)
	viewer := e.Login("viewer1", e.CreateUser("viewer1", authz.RoleViewer))
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "selfonly", "description": "Nothing but the own account", "permissions": []string{"account:self"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	loner := e.Login("loner", e.CreateUser("loner", "selfonly"))

	a := raise(t, e, "feed-1", "host_unreachable", "high", nil)
	b := raise(t, e, "feed-2", "disk_full", "critical", nil)
	require.Eventually(t, func() bool { return feed(t, e, admin, "").UnreadCount == 2 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 2, count(t, e, `SELECT count(*) FROM feed_items`), "one row per item, not per reader")

	p := feed(t, e, admin, "")
	require.Len(t, p.Items, 2)
	require.Equal(t, b.ID, *p.Items[0].AlertId, "newest first")
	require.Equal(t, "alert.raised", p.Items[0].Kind)
	require.Equal(t, "/alerts?alert="+b.ID.String(), p.Items[0].Link)
	require.Equal(t, api.Severity("critical"), *p.Items[0].Severity)
	require.Nil(t, p.Items[0].ReadAt)
	require.Equal(t, 2, feed(t, e, viewer, "").UnreadCount)
	lp := feed(t, e, loner, "")
	require.Empty(t, lp.Items, "no alert items without alert:read")
	require.Zero(t, lp.UnreadCount)

	// Reading one item is the reader's own.
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed/" + p.Items[1].Id.String() + ":read", Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed/" + p.Items[1].Id.String() + ":read", Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "idempotent")
	p = feed(t, e, admin, "")
	require.Equal(t, 1, p.UnreadCount)
	require.NotNil(t, p.Items[1].ReadAt)
	require.Len(t, feed(t, e, admin, "?unread=true").Items, 1)
	require.Equal(t, 2, feed(t, e, viewer, "").UnreadCount, "another user's read state is untouched")
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed/" + p.Items[1].Id.String() + ":read", Token: loner.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status, "an item outside the caller's feed: %s", res.Body)
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed/" + uuid.NewString() + ":read", Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status)
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed/not-a-uuid:read", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)

	// Read-all covers what is there; later items are unread.
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/feed:read-all", Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	p = feed(t, e, admin, "")
	require.Zero(t, p.UnreadCount)
	require.NotNil(t, p.Items[0].ReadAt)
	require.Empty(t, feed(t, e, admin, "?unread=true").Items)
	require.Equal(t, 2, feed(t, e, viewer, "").UnreadCount)

	require.NoError(t, pg.WithTx(context.Background(), e.App.Pool, func(tx pgx.Tx) error {
		_, err := alertResolve(tx, e, "feed-1")
		return err
	}))
	require.Eventually(t, func() bool { return feed(t, e, admin, "").UnreadCount == 1 }, 10*time.Second, 20*time.Millisecond)
	p = feed(t, e, admin, "?unread=true")
	require.Len(t, p.Items, 1)
	require.Equal(t, "alert.resolved", p.Items[0].Kind)
	require.Equal(t, a.ID, *p.Items[0].AlertId)

	// An item for one user.
	var lonerID uuid.UUID
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'loner'`).Scan(&lonerID))
	require.NoError(t, pg.WithTx(context.Background(), e.App.Pool, func(tx pgx.Tx) error {
		_, err := notify.FeedAddTx(context.Background(), tx, notify.FeedItem{Kind: "exception.awaiting_approval",
			Title: "An exception awaits your approval", Link: "/exceptions", UserID: &lonerID}, time.Now())
		return err
	}))
	lp = feed(t, e, loner, "")
	require.Len(t, lp.Items, 1)
	require.Equal(t, 1, lp.UnreadCount)
	require.Nil(t, lp.Items[0].Severity)
	require.Equal(t, 1, feed(t, e, admin, "").UnreadCount, "not in anyone else's feed")

	// Paging and bad input.
	p = feed(t, e, viewer, "?limit=2")
	require.Len(t, p.Items, 2)
	require.NotNil(t, p.NextCursor)
	require.Len(t, feed(t, e, viewer, "?limit=2&cursor="+*p.NextCursor).Items, 1)
	for _, q := range []string{"?limit=0", "?cursor=nope", "?unread=maybe"} {
		res := e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/feed" + q, Token: viewer.AccessToken})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", q, res.Body)
	}
	res = e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/feed"})
	require.Equal(t, http.StatusUnauthorized, res.Status)
}

// alertResolve resolves the live alert of key as its condition cleared.
func alertResolve(tx pgx.Tx, e *apitest.Env, key string) (int, error) {
	rows, err := alert.AutoResolveTx(context.Background(), tx, e.App.Audit, key, time.Time{})
	return len(rows), err
}
