package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
)

// receiver is a loopback webhook receiver that verifies signatures the way the spec tells
// receivers to: HMAC-SHA256 over "<t>.<body>", t no older than five minutes.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	valid  []bool
	calls  atomic.Int32
}

func newReceiver(t *testing.T, secret string, answer func(call int32) int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.calls.Add(1)
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		r.valid = append(r.valid, verify(secret, req.Header.Get(notify.SignatureHeader), body))
		r.mu.Unlock()
		w.WriteHeader(answer(n))
	}))
	t.Cleanup(r.Close)
	return r
}

// seen returns what the receiver has got so far: each body and whether its signature
// verified (the handler appends after counting the call, so read both under the lock).
func (r *receiver) seen() (bodies []string, valid []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...), append([]bool(nil), r.valid...)
}

func verify(secret, header string, body []byte) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)) > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

func env(t *testing.T) (*apitest.Env, apitest.Session) {
	e := apitest.New(t, func(d *app.Deps) {
		d.Notify = notify.Options{Timeout: 500 * time.Millisecond, MaxAttempts: 2}
	})
	return e, e.Admin()
}

func createChannel(t testing.TB, e *apitest.Env, s apitest.Session, body map[string]any) api.NotificationChannel {
	t.Helper()
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels", Token: s.AccessToken, JSON: body})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ch api.NotificationChannel
	res.Decode(t, &ch)
	return ch
}

// TestWebhookTestIsSigned sends a test message to a loopback receiver, which sees a valid
// signature; the secret never comes back.
func TestWebhookTestIsSigned(t *testing.T) {
	t.Parallel()
	const secret = "SECRETMARKER-webhook"
	e, s := env(t)
	rcv := newReceiver(t, secret, func(int32) int { return http.StatusNoContent })
	ch := createChannel(t, e, s, map[string]any{"name": "hook", "type": "webhook", "secret": secret,
		"config": map[string]any{"url": rcv.URL + "/hook"}})
	require.True(t, ch.SecretSet)

	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels/" + ch.Id.String() + ":test", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.NotificationTestResult
	res.Decode(t, &out)
	require.Equal(t, api.NotificationTestResultOutcome("delivered"), out.Outcome, "%v", out.Error)
	bodies, valid := rcv.seen()
	require.Equal(t, []bool{true}, valid)
	require.Contains(t, bodies[0], `"transition":"test"`)

	res = e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/channels/" + ch.Id.String(), Token: s.AccessToken})
	require.NotContains(t, string(res.Body), secret)
	res = e.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, string(res.Body), "notification_channel.tested")
	require.NotContains(t, string(res.Body), secret)
	require.NotContains(t, e.Logs(), secret)
}

// TestDeliveries enqueues one notice for three channels: a good receiver, one answering
// 500 then 200 (delivered on the retry) and one that never answers (dead after its
// attempts), which does not delay the others. A suppressed notice is skipped.
func TestDeliveries(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	good := newReceiver(t, "good-secret", func(int32) int { return http.StatusOK })
	flaky := newReceiver(t, "flaky-secret", func(n int32) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	block := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	t.Cleanup(func() { close(block); hang.Close() })

	goodCh := createChannel(t, e, s, map[string]any{"name": "good", "type": "webhook", "secret": "good-secret", "config": map[string]any{"url": good.URL}})
	createChannel(t, e, s, map[string]any{"name": "flaky", "type": "webhook", "secret": "flaky-secret", "config": map[string]any{"url": flaky.URL}})
	hung := createChannel(t, e, s, map[string]any{"name": "hung", "type": "slack", "config": map[string]any{"url": hang.URL}})
	createChannel(t, e, s, map[string]any{"name": "critical-only", "type": "webhook", "config": map[string]any{"url": good.URL},
		"routing": map[string]any{"min_severity": "critical"}})

	ctx := context.Background()
	start := time.Now()
	var n int
	require.NoError(t, pg.WithTx(ctx, e.App.Pool, func(tx pgx.Tx) error {
		var err error
		n, err = e.App.Notify.EnqueueTx(ctx, tx, notify.Notice{Transition: "opened", Severity: "high", AlertType: "host_down",
			Title: "web-1 is down", Body: "No answer for 5 minutes."})
		return err
	}))
	require.Equal(t, 3, n, "the critical-only channel does not match a high notice")

	statuses := func() map[string]api.NotificationDelivery {
		res := e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/deliveries", Token: s.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var page api.NotificationDeliveryListResponse
		res.Decode(t, &page)
		out := map[string]api.NotificationDelivery{}
		for _, d := range page.Deliveries {
			out[d.ChannelId.String()] = d
		}
		return out
	}
	require.Eventually(t, func() bool { _, v := good.seen(); return len(v) == 1 }, 10*time.Second, 50*time.Millisecond)
	require.Less(t, time.Since(start), 5*time.Second, "the hung receiver did not hold the good one")
	_, valid := good.seen()
	require.Equal(t, []bool{true}, valid)
	var dead api.NotificationDelivery
	require.Eventually(t, func() bool {
		st := statuses()
		dead = st[hung.Id.String()]
		done := 0
		for _, d := range st {
			if d.Status == "delivered" || d.Status == "dead" {
				done++
			}
		}
		return done == 3
	}, 60*time.Second, 250*time.Millisecond)
	require.Equal(t, api.NotificationDeliveryStatus("dead"), dead.Status)
	require.Equal(t, 2, dead.Attempts)
	require.NotNil(t, dead.LastError)
	require.Equal(t, int32(2), flaky.calls.Load())
	_, valid = flaky.seen()
	require.Equal(t, []bool{true, true}, valid)

	res := e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/deliveries?status=dead", Token: s.AccessToken})
	var page api.NotificationDeliveryListResponse
	res.Decode(t, &page)
	require.Len(t, page.Deliveries, 1)

	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/deliveries/" + dead.Id.String() + ":redeliver", Token: s.AccessToken})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/deliveries/" + statuses()[goodCh.Id.String()].Id.String() + ":redeliver", Token: s.AccessToken})
	require.Equal(t, http.StatusConflict, res.Status, "a delivered delivery is not redelivered: %s", res.Body)

	require.NoError(t, pg.WithTx(ctx, e.App.Pool, func(tx pgx.Tx) error {
		_, err := e.App.Notify.EnqueueTx(ctx, tx, notify.Notice{Transition: "opened", Severity: "critical", AlertType: "host_down",
			Title: "in maintenance", Suppressed: true})
		return err
	}))
	res = e.Do(apitest.Request{Method: http.MethodGet, Path: "notifications/deliveries?status=skipped", Token: s.AccessToken})
	res.Decode(t, &page)
	require.Len(t, page.Deliveries, 4)
}

// TestBadInput answers 400 naming the field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"malformed url": {map[string]any{"name": "a", "type": "webhook", "config": map[string]any{"url": "not a url"}}, "config.url"},
		"metadata url":  {map[string]any{"name": "a", "type": "webhook", "config": map[string]any{"url": "http://169.254.169.254/latest"}}, "config.url"},
		"smtp port":     {map[string]any{"name": "a", "type": "email", "config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": 70000, "from": "a@example.com", "to": []string{"b@example.com"}}}, "smtp_port"},
		"smtp port 0":   {map[string]any{"name": "a", "type": "email", "config": map[string]any{"smtp_host": "127.0.0.1", "from": "a@example.com", "to": []string{"b@example.com"}}}, "config.smtp_port"},
		"bad from":      {map[string]any{"name": "a", "type": "email", "config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": 25, "from": "nope", "to": []string{"b@example.com"}}}, "config.from"},
		"unknown type":  {map[string]any{"name": "a", "type": "pager", "config": map[string]any{}}, "type"},
	} {
		res := e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels", Token: s.AccessToken, JSON: tc.body})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
		require.Contains(t, res.Err(t).Error.Detail["field"], tc.field, name)
	}
}

// TestPermissions checks each role against each operation.
func TestPermissions(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	ch := createChannel(t, e, s, map[string]any{"name": "perm", "type": "webhook", "config": map[string]any{"url": "http://127.0.0.1:9/x"}})
	viewer := e.Login("viewer1", e.CreateUser("viewer1", authz.RoleViewer))
	for _, r := range []apitest.Request{
		{Method: http.MethodGet, Path: "notifications/channels"},
		{Method: http.MethodPost, Path: "notifications/channels", JSON: map[string]any{"name": "x", "type": "webhook", "config": map[string]any{"url": "http://127.0.0.1/"}}},
		{Method: http.MethodPatch, Path: "notifications/channels/" + ch.Id.String(), JSON: map[string]any{"enabled": false}},
		{Method: http.MethodDelete, Path: "notifications/channels/" + ch.Id.String()},
		{Method: http.MethodPost, Path: "notifications/channels/" + ch.Id.String() + ":test"},
		{Method: http.MethodGet, Path: "notifications/deliveries"},
	} {
		r.Token = viewer.AccessToken
		res := e.Do(r)
		require.Equal(t, http.StatusForbidden, res.Status, "%s %s", r.Method, r.Path)
	}
	res := e.Do(apitest.Request{Method: http.MethodPatch, Path: "notifications/channels/" + ch.Id.String(), Token: s.AccessToken,
		JSON: map[string]any{"enabled": false}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = e.Do(apitest.Request{Method: http.MethodDelete, Path: "notifications/channels/" + ch.Id.String(), Token: s.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
}

// TestGuardRefusesAtConnect refuses a receiver outside the allowed networks when it is
// dialled, even though its name (localhost) passed the create-time check.
func TestGuardRefusesAtConnect(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *app.Deps) {
		d.Notify = notify.Options{Timeout: time.Second, Guard: &notify.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	})
	s := e.Admin()
	rcv := newReceiver(t, "", func(int32) int { return http.StatusOK })
	ch := createChannel(t, e, s, map[string]any{"name": "local", "type": "webhook",
		"config": map[string]any{"url": strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)}})
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels/" + ch.Id.String() + ":test", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.NotificationTestResult
	res.Decode(t, &out)
	require.Equal(t, api.NotificationTestResultOutcome("failed"), out.Outcome)
	require.Contains(t, *out.Error, "not allowed")
	require.Zero(t, rcv.calls.Load(), "nothing reached the receiver")
}
