package events_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/worker/workertest"
)

// procStream is an SSE stream from a separate serve process.
type procStream struct {
	t      *testing.T
	cancel context.CancelFunc
	msgs   chan Message
}

func openProcStream(t *testing.T, s *workertest.ServeProcess, token string, lastID string) *procStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/events?topics=discovery,jobs", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	client := s.Client()
	client.Timeout = 0 // a stream has no end
	res, err := client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	ps := &procStream{t: t, cancel: cancel, msgs: make(chan Message, 1000)}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(ps.msgs)
		sc := bufio.NewScanner(res.Body)
		var m Message
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ": ")
			switch {
			case sc.Text() == "":
				if m.Event != "" {
					ps.msgs <- m
				}
				m = Message{}
			case k == "id":
				m.ID = v
			case k == "event":
				m.Event = v
			case k == "data":
				m.Data = v
			}
		}
	}()
	return ps
}

// until returns the events up to and including the first that satisfies stop.
func (ps *procStream) until(stop func(Message, events.Payload) bool) []events.Payload {
	ps.t.Helper()
	var got []events.Payload
	deadline := time.After(workertest.JobTimeout)
	for {
		select {
		case m, ok := <-ps.msgs:
			require.True(ps.t, ok, "the stream ended")
			var ev events.Payload
			require.NoError(ps.t, json.Unmarshal([]byte(m.Data), &ev), "%s", m.Data)
			require.Equal(ps.t, m.ID, ev.ID)
			require.Equal(ps.t, m.Event, ev.Type)
			got = append(got, ev)
			if stop(m, ev) {
				return got
			}
		case <-deadline:
			ps.t.Fatalf("the expected event did not arrive; got %d events", len(got))
		}
	}
}

func completedScan(scanID string) func(Message, events.Payload) bool {
	return func(_ Message, ev events.Payload) bool {
		return ev.Type == "discovery.completed" && ev.Data["scan_id"] == scanID
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func call(t *testing.T, s *workertest.ServeProcess, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, s.URL+"/api/v1/"+path, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	return res, buf.Bytes()
}

// TestEventsCrossProcesses runs two `openwatch serve` processes that work no jobs and one
// `openwatch worker`: a discovery scan requested through one serve runs on the worker, and
// its events reach the streams of both serves; a stream that reconnects with
// Last-Event-ID receives what it missed; stopping a serve ends its open streams at once.
func TestEventsCrossProcesses(t *testing.T) {
	t.Parallel()
	bin := workertest.BuildBinary(t)
	dsn := pgtest.NewDSN(t)
	s1 := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	s2 := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	workertest.StartWorkerProcess(t, bin, dsn)
	password := s1.AdminPassword()
	require.NotEmpty(t, password, "the first serve creates the admin")

	res, body := call(t, s1, http.MethodPost, "auth/login", "", map[string]string{"username": "admin", "password": password})
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	var login api.AuthLoginResponse
	require.NoError(t, json.Unmarshal(body, &login))
	token := login.AccessToken

	st1 := openProcStream(t, s1, token, "")
	st2 := openProcStream(t, s2, token, "")

	scan := func(via *workertest.ServeProcess) (string, string) {
		t.Helper()
		res, body := call(t, via, http.MethodPost, "discovery/cidr", token,
			map[string]any{"cidr": "127.0.0.1/32", "ports": []int{closedPort(t)}})
		require.Equal(t, http.StatusAccepted, res.StatusCode, "%s", body)
		var sc api.DiscoveryScan
		require.NoError(t, json.Unmarshal(body, &sc))
		return sc.Id.String(), res.Header.Get("X-Correlation-Id")
	}
	first, correlation := scan(s1)
	got1 := st1.until(completedScan(first))
	got2 := st2.until(completedScan(first))
	done1, done2 := got1[len(got1)-1], got2[len(got2)-1]
	require.Equal(t, done1.ID, done2.ID, "both serves stream the same event")
	require.Equal(t, events.TopicDiscovery, done1.Topic)
	require.NotNil(t, done1.CorrelationID)
	require.Equal(t, correlation, *done1.CorrelationID, "the job's events carry the request's correlation id")

	// s2's client goes away; a second scan runs meanwhile (seen on s1's stream).
	st2.cancel()
	second, _ := scan(s1)
	missed := st1.until(completedScan(second))
	require.NotEmpty(t, missed)

	// Reconnecting to s2 with Last-Event-ID returns exactly the missed events, in order.
	again := openProcStream(t, s2, token, done2.ID)
	replay := again.until(completedScan(second))
	require.Equal(t, ids(missed), ids(replay))
	prev, _ := strconv.ParseInt(done2.ID, 10, 64)
	for _, ev := range replay {
		n, err := strconv.ParseInt(ev.ID, 10, 64)
		require.NoError(t, err)
		require.Greater(t, n, prev)
		prev = n
	}

	// Stopping a serve ends its open stream instead of waiting on it.
	require.NoError(t, s2.Stop(), "serve exits cleanly with a stream open")
	select {
	case _, ok := <-again.msgs:
		for ok {
			_, ok = <-again.msgs
		}
	case <-time.After(guard):
		t.Fatal("the stream did not end when its serve stopped")
	}
}

func ids(evs []events.Payload) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}
