package events_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// guard bounds every wait; it protects against hangs and is not a timing assertion.
const guard = 20 * time.Second

// Message is one Server-Sent Event.
type Message struct {
	ID, Event, Data string
}

// sseStream reads a text/event-stream response.
type sseStream struct {
	t      *testing.T
	cancel context.CancelFunc
	res    *http.Response
	msgs   chan Message
	done   chan error
}

// openStream sends GET /events with query and headers and fails unless it is a 200 stream.
func openStream(t *testing.T, srv *httptest.Server, query url.Values, headers map[string]string) *sseStream {
	t.Helper()
	s, status, body := tryStream(t, srv, query, headers)
	require.Equal(t, http.StatusOK, status, "%s", body)
	return s
}

func tryStream(t *testing.T, srv *httptest.Server, query url.Values, headers map[string]string) (*sseStream, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/events?"+query.Encode(), nil)
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, res.StatusCode, string(body)
	}
	s := &sseStream{t: t, cancel: cancel, res: res, msgs: make(chan Message, 100), done: make(chan error, 1)}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	go s.read()
	return s, res.StatusCode, ""
}

func (s *sseStream) read() {
	sc := bufio.NewScanner(s.res.Body)
	var m Message
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if m.Event != "" {
				s.msgs <- m
			}
			m = Message{}
			continue
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			m.ID = v
		case "event":
			m.Event = v
		case "data":
			m.Data = v
		}
	}
	s.done <- sc.Err()
	close(s.msgs)
}

// next returns the next event, failing when none arrives.
func (s *sseStream) next() Message {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		require.True(s.t, ok, "the stream ended")
		return m
	case <-time.After(guard):
		s.t.Fatal("no event arrived")
	}
	return Message{}
}

// ended waits for the server to end the stream.
func (s *sseStream) ended() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(guard):
		s.t.Fatal("the stream did not end")
	}
}

func publish(t *testing.T, env *apitest.Env, topic events.Topic, typ, perm string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, pg.WithTx(context.Background(), env.App.Pool, func(tx pgx.Tx) error {
		p, err := events.Publish(context.Background(), tx, events.Event{Topic: topic, Type: typ, Permission: perm,
			Data: map[string]any{"what": typ}})
		id = p.ID
		return err
	}))
	return id
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func newEnv(t *testing.T) (*apitest.Env, *httptest.Server) {
	env := apitest.New(t)
	srv := httptest.NewUnstartedServer(env.App.Handler())
	srv.Config.RegisterOnShutdown(env.App.Events.Close)
	srv.Start()
	t.Cleanup(srv.Close)
	return env, srv
}

func TestStreamNeedsCredentials(t *testing.T) {
	t.Parallel()
	env, srv := newEnv(t)
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "events"})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "events?ticket=not-a-ticket"})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Equal(t, "auth.invalid_token", res.Err(t).Error.Code)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "events:ticket"})
	require.Equal(t, http.StatusUnauthorized, res.Status)

	admin := env.Admin()
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "events?topics=liveness,nope", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "events", Token: admin.AccessToken,
		Headers: map[string]string{"Last-Event-ID": "99999999999999999999"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	_, status, _ := tryStream(t, srv, url.Values{"last_event_id": {"9999999999999999999"}}, bearer(admin.AccessToken))
	require.Equal(t, http.StatusBadRequest, status, "an id beyond int64")
	// A ticket is accepted only where the spec allows it.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "events:ticket", Token: admin.AccessToken})
	require.Equal(t, http.StatusCreated, res.Status)
	var tk api.EventTicket
	res.Decode(t, &tk)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me?ticket=" + url.QueryEscape(tk.Ticket)})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.NotContains(t, env.Logs(), tk.Ticket, "tickets are never logged")
}

func TestStreamFiltersByPermission(t *testing.T) {
	t.Parallel()
	env, srv := newEnv(t)
	admin := env.Admin()
	viewer := env.Login("vera", env.CreateUser("vera", authz.RoleViewer))
	hdr := bearer(admin.AccessToken)
	hdr["Accept-Encoding"] = "gzip"
	a := openStream(t, srv, nil, hdr)
	require.Equal(t, "text/event-stream", a.res.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", a.res.Header.Get("Cache-Control"))
	require.Equal(t, "no", a.res.Header.Get("X-Accel-Buffering"))
	require.Empty(t, a.res.Header.Get("Content-Encoding"), "streams are not compressed")
	require.NotEmpty(t, a.res.Header.Get("X-Correlation-Id"))
	v := openStream(t, srv, nil, map[string]string{"Authorization": "Bearer " + viewer.AccessToken})
	// Through apitest the stream's start is validated against the spec.
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "events?topics=alerts", Token: viewer.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(res.Body), ": "), "%q", res.Body)

	secret := publish(t, env, events.TopicLiveness, "host.credential_changed", authz.PermHostWrite)
	open := publish(t, env, events.TopicLiveness, "host.state_changed", authz.PermHostRead)

	m := a.next()
	require.Equal(t, strconv.FormatInt(secret, 10), m.ID)
	require.Equal(t, "host.credential_changed", m.Event)
	require.Equal(t, strconv.FormatInt(open, 10), a.next().ID)
	m = v.next()
	require.Equal(t, strconv.FormatInt(open, 10), m.ID, "the viewer does not get the host:write event")
	require.Equal(t, "host.state_changed", m.Event)
	require.JSONEq(t, fmt.Sprintf(`{"id":"%d","topic":"liveness","type":"host.state_changed","occurred_at":%q,"data":{"what":"host.state_changed"}}`,
		open, mustOccurredAt(t, m.Data)), m.Data)
	// The access log records a stream when it ends.
	a.cancel()
	require.Eventually(t, func() bool { return strings.Contains(env.Logs(), `"path":"/api/v1/events","status":200`) }, guard, 10*time.Millisecond)
}

// mustOccurredAt extracts occurred_at from an event's JSON data.
func mustOccurredAt(t *testing.T, data string) string {
	t.Helper()
	i := strings.Index(data, `"occurred_at":"`)
	require.GreaterOrEqual(t, i, 0)
	rest := data[i+len(`"occurred_at":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestStreamResumeAndTopics(t *testing.T) {
	t.Parallel()
	env, srv := newEnv(t)
	admin := env.Admin()
	first := publish(t, env, events.TopicLiveness, "l1", authz.PermHostRead)
	publish(t, env, events.TopicDiscovery, "d1", authz.PermHostRead)
	l2 := publish(t, env, events.TopicLiveness, "l2", authz.PermHostRead)

	hdr := bearer(admin.AccessToken)
	hdr["Last-Event-ID"] = strconv.FormatInt(first, 10)
	s := openStream(t, srv, url.Values{"topics": {"liveness,alerts"}}, hdr)
	require.Equal(t, strconv.FormatInt(l2, 10), s.next().ID, "the missed liveness event, not the discovery one")
	publish(t, env, events.TopicDiscovery, "d2", authz.PermHostRead)
	a1 := publish(t, env, events.TopicAlerts, "alert.raised", authz.PermHostRead)
	require.Equal(t, strconv.FormatInt(a1, 10), s.next().ID)

	// The query parameter works like the header; without either only new events come.
	q := openStream(t, srv, url.Values{"last_event_id": {strconv.FormatInt(l2, 10)}}, bearer(admin.AccessToken))
	m := q.next()
	require.Equal(t, "d2", m.Event)
	require.Equal(t, "alert.raised", q.next().Event)
	fresh := openStream(t, srv, nil, bearer(admin.AccessToken))
	last := publish(t, env, events.TopicJobs, "job.progress", authz.PermHostRead)
	require.Equal(t, strconv.FormatInt(last, 10), fresh.next().ID)

	// Events older than the retention window are gone: resuming before them is a reset.
	_, err := env.App.Pool.Exec(context.Background(), "UPDATE events SET occurred_at = now() - interval '2 days' WHERE id <= $1", l2)
	require.NoError(t, err)
	_, err = events.NewRetention(env.App.Pool, nil, 0, nil).Sweep(context.Background())
	require.NoError(t, err)
	hdr["Last-Event-ID"] = strconv.FormatInt(first, 10)
	r := openStream(t, srv, nil, hdr)
	require.Equal(t, "reset", r.next().Event)
	require.Equal(t, "d2", r.next().Event, "then the retained events")
}

func TestStreamTickets(t *testing.T) {
	t.Parallel()
	env, srv := newEnv(t)
	admin := env.Admin()
	ticket := func(tok string) api.EventTicket {
		t.Helper()
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "events:ticket", Token: tok})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var tk api.EventTicket
		res.Decode(t, &tk)
		require.WithinDuration(t, time.Now().Add(events.TicketTTL), tk.ExpiresAt, 5*time.Second)
		return tk
	}
	byTicket := func(tk api.EventTicket) (*sseStream, int) {
		s, status, _ := tryStream(t, srv, url.Values{"ticket": {tk.Ticket}}, nil)
		return s, status
	}

	tk := ticket(admin.AccessToken)
	s, status := byTicket(tk)
	require.Equal(t, http.StatusOK, status)
	id := publish(t, env, events.TopicAlerts, "alert.raised", authz.PermHostWrite)
	require.Equal(t, strconv.FormatInt(id, 10), s.next().ID)
	_, status = byTicket(tk)
	require.Equal(t, http.StatusUnauthorized, status, "a ticket works once")

	// An expired ticket fails.
	tk = ticket(admin.AccessToken)
	_, err := env.App.Pool.Exec(context.Background(), "UPDATE event_tickets SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)
	_, status = byTicket(tk)
	require.Equal(t, http.StatusUnauthorized, status)

	// A viewer's ticket carries the viewer's permissions; disabling the user voids it.
	env.CreateUser("vic", authz.RoleViewer)
	viewer := env.Login("vic", "pw-vic-0123456789")
	vs, status := byTicket(ticket(viewer.AccessToken))
	require.Equal(t, http.StatusOK, status)
	publish(t, env, events.TopicAlerts, "hidden", authz.PermHostWrite)
	shown := publish(t, env, events.TopicAlerts, "shown", authz.PermHostRead)
	require.Equal(t, strconv.FormatInt(shown, 10), vs.next().ID)
	tk = ticket(viewer.AccessToken)
	var vicID string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), "SELECT id::text FROM users WHERE username = 'vic'").Scan(&vicID))
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + vicID + ":disable", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	_, status = byTicket(tk)
	require.Equal(t, http.StatusUnauthorized, status, "a disabled user's ticket fails")

	// Service account tokens get tickets too.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "dash", "role": "viewer"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sa api.ServiceAccount
	res.Decode(t, &sa)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "sse", "eternal": true}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var tok api.APITokenCreated
	res.Decode(t, &tok)
	ss, status := byTicket(ticket(tok.Token))
	require.Equal(t, http.StatusOK, status)
	id = publish(t, env, events.TopicJobs, "job.progress", authz.PermHostRead)
	require.Equal(t, strconv.FormatInt(id, 10), ss.next().ID)
	require.NotContains(t, env.Logs(), tk.Ticket)
}

func TestShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	env, srv := newEnv(t)
	admin := env.Admin()
	s := openStream(t, srv, nil, bearer(admin.AccessToken))
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	require.NoError(t, srv.Config.Shutdown(ctx), "graceful shutdown does not wait for open streams")
	s.ended()
}

func TestStreamEndsWithItsCredential(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(d *app.Deps) { d.EventHeartbeat = 200 * time.Millisecond })
	srv := httptest.NewServer(env.App.Handler())
	t.Cleanup(srv.Close)
	admin := env.Admin()
	env.CreateUser("rita", authz.RoleAuditor)
	rita := env.Login("rita", "pw-rita-0123456789")
	var ritaID string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), "SELECT id::text FROM users WHERE username = 'rita'").Scan(&ritaID))

	// A permission change applies to the open stream at its next check.
	s := openStream(t, srv, nil, bearer(rita.AccessToken))
	first := publish(t, env, events.TopicAlerts, "before", authz.PermHostRead)
	require.Equal(t, strconv.FormatInt(first, 10), s.next().ID)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + ritaID + "/roles:assign", Token: admin.AccessToken,
		JSON: map[string]string{"role_id": authz.RoleAdmin}})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	deadline := time.Now().Add(guard)
	var got Message
	for got.Event != "needs-write" && time.Now().Before(deadline) {
		publish(t, env, events.TopicAlerts, "needs-write", authz.PermHostWrite)
		select {
		case got = <-s.msgs:
		case <-time.After(300 * time.Millisecond):
		}
	}
	require.Equal(t, "needs-write", got.Event, "the stream follows the new role")

	// Signing out ends the stream.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/logout", Token: rita.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	s.ended()
}
