package events

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Payload is the JSON `data` line of one Server-Sent Event of GET /events, with the
// fields the streamEvents response of the spec describes. The spec cannot give a stream's
// lines a schema in OpenAPI 3.0, so the type lives here rather than in gen/api.
type Payload struct {
	ID            string         `json:"id"`
	Topic         Topic          `json:"topic"`
	Type          string         `json:"type"`
	HostID        *uuid.UUID     `json:"host_id,omitempty"`
	OccurredAt    time.Time      `json:"occurred_at"`
	CorrelationID *string        `json:"correlation_id,omitempty"`
	Data          map[string]any `json:"data"`
}

// encodeEvent renders ev as the Payload of its Server-Sent Event.
func encodeEvent(ev Stored) ([]byte, error) {
	out := Payload{
		ID: strconv.FormatInt(ev.ID, 10), Topic: ev.Topic, Type: ev.Type,
		HostID: ev.HostID, OccurredAt: ev.OccurredAt.UTC(), Data: map[string]any{},
	}
	if ev.CorrelationID != "" {
		out.CorrelationID = &ev.CorrelationID
	}
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &out.Data); err != nil {
			return nil, err
		}
		if out.Data == nil { // the JSON null
			out.Data = map[string]any{}
		}
	}
	return json.Marshal(out)
}
