package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
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
	Cursor    *string
	Limit     *int
}

// position is the keyset of the event list and the activity feed: newest first on
// (occurred_at, id).
type position struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

func decodePosition(c *string) (*position, error) {
	var p position
	ok, err := cursor.Decode(c, &p)
	if err != nil || !ok {
		return nil, err
	}
	return &p, nil
}

func (p *position) at() *time.Time {
	if p == nil {
		return nil
	}
	return &p.At
}

func (p *position) id() *uuid.UUID {
	if p == nil {
		return nil
	}
	return &p.ID
}

// Events returns a page of intelligence events, newest first. Guarded by host:read.
// Errors: validation_failed (bad cursor).
func (s *Service) Events(ctx context.Context, f EventFilter) ([]dbq.IntelligenceEvent, *string, error) {
	before, err := decodePosition(f.Cursor)
	if err != nil {
		return nil, nil, err
	}
	n := cursor.Limit(f.Limit)
	rows, err := s.q.IntelEventList(ctx, dbq.IntelEventListParams{HostID: f.HostID, EventCode: f.EventCode,
		Severity: f.Severity, Since: f.Since, Until: f.Until, BeforeAt: before.at(), BeforeID: before.id(),
		RowLimit: int32(n + 1)})
	if err != nil {
		return nil, nil, pg.Translate(err)
	}
	rows, next := cursor.Trim(rows, n, func(e dbq.IntelligenceEvent) any { return position{At: e.OccurredAt, ID: e.ID} })
	return rows, next, nil
}

// Activity sources. The spec's "transaction" source has no items yet: a filter on it
// matches nothing.
const (
	SourceAudit        = "audit"
	SourceMonitoring   = "monitoring"
	SourceIntelligence = "intelligence"
	SourceAlert        = "alert"
)

// sourcePermission is what a caller needs to see the items of a source.
var sourcePermission = map[string]string{
	SourceAudit:        authz.PermAuditRead,
	SourceMonitoring:   authz.PermHostRead,
	SourceIntelligence: authz.PermHostRead,
	SourceAlert:        authz.PermHostRead,
}

// ActivityFilter narrows the activity feed.
type ActivityFilter struct {
	Source   *string
	Severity *string
	HostID   *uuid.UUID
	Since    *time.Time
	Until    *time.Time
	Cursor   *string
	Limit    *int
}

// ActivityItem is one entry of the feed.
type ActivityItem struct {
	ID         uuid.UUID
	Source     string
	Severity   string
	HostID     *uuid.UUID
	Title      string
	Summary    string
	OccurredAt time.Time
}

// ActivityPage is a page of the feed. Hidden counts the items in the page's span (from
// the cursor down to the last item, or to the start when this is the last page) of sources
// the caller may not read.
type ActivityPage struct {
	Items  []ActivityItem
	Hidden int64
	Next   *string
}

// include says which sources a query reads.
type include struct{ audit, monitoring, intel, alert bool }

// sources returns the sources the filter asks for that the caller may (visible) and may
// not (hidden) read.
func sources(p *authz.Principal, only *string) (visible, hidden include) {
	pick := func(src string) (bool, bool) {
		if only != nil && *only != src {
			return false, false
		}
		can := p.Can(sourcePermission[src])
		return can, !can
	}
	visible.audit, hidden.audit = pick(SourceAudit)
	visible.monitoring, hidden.monitoring = pick(SourceMonitoring)
	visible.intel, hidden.intel = pick(SourceIntelligence)
	visible.alert, hidden.alert = pick(SourceAlert)
	return visible, hidden
}

// Activity returns a page of the unified feed (audit events, monitoring transitions,
// intelligence events, alerts), newest first, with the items of sources the caller may
// not read left out and counted. Guarded by activity:read. Errors: validation_failed.
func (s *Service) Activity(ctx context.Context, p *authz.Principal, f ActivityFilter) (ActivityPage, error) {
	before, err := decodePosition(f.Cursor)
	if err != nil {
		return ActivityPage{}, err
	}
	n := cursor.Limit(f.Limit)
	visible, hidden := sources(p, f.Source)
	var rows []dbq.ActivityFeed
	if visible != (include{}) {
		rows, err = s.q.IntelActivityList(ctx, dbq.IntelActivityListParams{
			IncludeAudit: visible.audit, IncludeMonitoring: visible.monitoring, IncludeIntel: visible.intel,
			IncludeAlert: visible.alert, HostID: f.HostID, Severity: f.Severity, Since: f.Since, Until: f.Until,
			BeforeAt: before.at(), BeforeID: before.id(), RowLimit: int32(n + 1)})
		if err != nil {
			return ActivityPage{}, pg.Translate(err)
		}
	}
	rows, next := cursor.Trim(rows, n, func(r dbq.ActivityFeed) any { return position{At: r.OccurredAt, ID: r.ID} })
	page := ActivityPage{Items: make([]ActivityItem, 0, len(rows)), Next: next}
	for _, r := range rows {
		page.Items = append(page.Items, activityItem(r))
	}
	if hidden == (include{}) {
		return page, nil
	}
	var after *position
	if next != nil && len(rows) > 0 {
		last := rows[len(rows)-1]
		after = &position{At: last.OccurredAt, ID: last.ID}
	}
	page.Hidden, err = s.q.IntelActivityCount(ctx, dbq.IntelActivityCountParams{
		IncludeAudit: hidden.audit, IncludeMonitoring: hidden.monitoring, IncludeIntel: hidden.intel,
		IncludeAlert: hidden.alert, HostID: f.HostID, Severity: f.Severity, Since: f.Since, Until: f.Until,
		BeforeAt: before.at(), BeforeID: before.id(), AfterAt: after.at(), AfterID: after.id()})
	if err != nil {
		return ActivityPage{}, pg.Translate(err)
	}
	return page, nil
}

func activityItem(r dbq.ActivityFeed) ActivityItem {
	it := ActivityItem{ID: r.ID, Source: r.Source, Severity: r.Severity, HostID: r.HostID, Title: r.Title,
		Summary: r.Summary, OccurredAt: r.OccurredAt}
	if r.Source == SourceIntelligence {
		it.Title, it.Summary = describeEvent(r.Title, r.Detail)
	}
	return it
}

// describeEvent returns a title and a summary for an intelligence event.
func describeEvent(code string, detailJSON []byte) (string, string) {
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
