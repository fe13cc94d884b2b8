package openwatch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Event is one event of the live stream (GET /events).
type Event struct {
	ID            string          `json:"id"`
	Topic         string          `json:"topic"`
	Type          string          `json:"type"`
	HostID        string          `json:"host_id,omitempty"`
	OccurredAt    time.Time       `json:"occurred_at"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// Events opens the live event stream of the topics (all when none are given) and yields
// its events until ctx ends, the server closes the stream or an error occurs (yielded
// last). A `reset` event is yielded with Type "reset". The stream is opened before Events
// returns, so events published after it returns are not missed.
func (c *Client) Events(ctx context.Context, topics ...string) (iter.Seq2[Event, error], error) {
	u := c.BaseURL.String() + "/api/v1/events"
	if len(topics) > 0 {
		u += "?topics=" + url.QueryEscape(strings.Join(topics, ","))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	// The stream may stay open longer than any request timeout.
	hc := *c.http
	hc.Timeout = 0
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		_ = res.Body.Close()
		if err := Check(res, body); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("openwatch: the event stream answered HTTP %d", res.StatusCode)
	}
	return func(yield func(Event, error) bool) {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		var typ, id string
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data.Len() == 0 {
					typ, id = "", ""
					continue
				}
				var ev Event
				if err := json.Unmarshal([]byte(data.String()), &ev); err != nil || typ == "reset" {
					ev = Event{Type: typ, ID: id, Data: json.RawMessage(data.String())}
				}
				if ev.Type == "" {
					ev.Type = typ
				}
				data.Reset()
				typ, id = "", ""
				if !yield(ev, nil) {
					return
				}
			case strings.HasPrefix(line, ":"):
				// a keep-alive comment
			case strings.HasPrefix(line, "event:"):
				typ = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "id:"):
				id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
			case strings.HasPrefix(line, "data:"):
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
		if err := sc.Err(); err != nil && ctx.Err() == nil {
			yield(Event{}, err)
		}
	}, nil
}
