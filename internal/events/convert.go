package events

import (
	"encoding/json"
	"strconv"

	api "github.com/openwatch/openwatch/gen/api"
)

// encodeEvent renders ev as the spec's Event object.
func encodeEvent(ev Stored) ([]byte, error) {
	out := api.Event{
		Id: strconv.FormatInt(ev.ID, 10), Topic: api.EventTopic(ev.Topic), Type: ev.Type,
		HostId: ev.HostID, OccurredAt: ev.OccurredAt.UTC(), Data: map[string]any{},
	}
	if ev.CorrelationID != "" {
		out.CorrelationId = &ev.CorrelationID
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
