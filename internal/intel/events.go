package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// EventFilter narrows the intelligence event list.
type EventFilter struct {
	HostID    *uuid.UUID
	EventCode *string
	Severity  *string
	Since     *time.Time
	Until     *time.Time
}

// Events returns a page of intelligence events, newest first. Guarded by host:read.
func (s *Service) Events(ctx context.Context, f EventFilter, page cursor.Request[cursor.TimeID]) (cursor.Page[dbq.IntelligenceEvent], error) {
	rows, err := s.q.IntelEventList(ctx, dbq.IntelEventListParams{HostID: f.HostID, EventCode: f.EventCode,
		Severity: f.Severity, Since: f.Since, Until: f.Until, BeforeAt: cursor.AtOrNil(page.After),
		BeforeID: cursor.IDOrNil(page.After), RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.IntelligenceEvent]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(e dbq.IntelligenceEvent) cursor.TimeID { return cursor.TimeID{At: e.OccurredAt, ID: e.ID} }), nil
}

// DescribeEvent returns a title and a summary for an intelligence event (the activity
// feed shows them).
func DescribeEvent(code string, detailJSON []byte) (string, string) {
	var d map[string]any
	_ = json.Unmarshal(detailJSON, &d)
	title := strings.ToUpper(code[:1]) + strings.ReplaceAll(code[1:], "_", " ")
	subject := ""
	for _, k := range []string{"user", "group", "package", "service", "path", "mountpoint", "interface"} {
		if v, ok := d[k]; ok {
			subject = fmt.Sprint(v)
			break
		}
	}
	switch {
	case code == EvPortOpened || code == EvPortClosed:
		subject = fmt.Sprintf("%v %v:%v", d["proto"], d["address"], d["port"])
	case code == EvKernelUpdated:
		subject = fmt.Sprintf("%v -> %v", d["from_release"], d["to_release"])
	case code == EvPrivilegedGroupAdded || code == EvPrivilegedGroupRemoved:
		subject = fmt.Sprintf("%v in %v", d["user"], d["group"])
	}
	if subject != "" {
		title += ": " + subject
	}
	summary, _ := json.Marshal(d)
	return title, string(summary)
}
