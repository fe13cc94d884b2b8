package activity

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/intel"
	"github.com/openwatch/openwatch/internal/pg"
)

// Service reads the activity feed.
type Service struct {
	q *dbq.Queries
}

// NewService returns the activity feed service.
func NewService(pool *pgxpool.Pool) *Service { return &Service{q: dbq.New(pool)} }

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

// Filter narrows the activity feed.
type Filter struct {
	Source   *string
	Severity *string
	HostID   *uuid.UUID
	Since    *time.Time
	Until    *time.Time
}

// Item is one entry of the feed.
type Item struct {
	ID         uuid.UUID
	Source     string
	Severity   string
	HostID     *uuid.UUID
	Title      string
	Summary    string
	OccurredAt time.Time
}

// Page is a page of the feed. Hidden counts the items in the page's span (from the cursor
// down to the last item, or to the start when this is the last page) of sources the caller
// may not read.
type Page struct {
	cursor.Page[Item]
	Hidden int64
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

// List returns a page of the unified feed (audit events, monitoring transitions,
// intelligence events, alerts), newest first, with the items of sources the caller may
// not read left out and counted. Guarded by activity:read.
func (s *Service) List(ctx context.Context, p *authz.Principal, f Filter, page cursor.Request[cursor.TimeID]) (Page, error) {
	visible, hidden := sources(p, f.Source)
	var rows []dbq.ActivityFeed
	if visible != (include{}) {
		var err error
		rows, err = s.q.ActivityList(ctx, dbq.ActivityListParams{
			IncludeAudit: visible.audit, IncludeMonitoring: visible.monitoring, IncludeIntel: visible.intel,
			IncludeAlert: visible.alert, HostID: f.HostID, Severity: f.Severity, Since: f.Since, Until: f.Until,
			BeforeAt: cursor.AtOrNil(page.After), BeforeID: cursor.IDOrNil(page.After), RowLimit: page.Fetch()})
		if err != nil {
			return Page{}, pg.Translate(err)
		}
	}
	cut := cursor.Cut(page, rows, func(r dbq.ActivityFeed) cursor.TimeID { return cursor.TimeID{At: r.OccurredAt, ID: r.ID} })
	out := Page{Page: cursor.Map(cut, item)}
	if hidden == (include{}) {
		return out, nil
	}
	var after *cursor.TimeID
	if cut.Next != nil && len(cut.Items) > 0 {
		last := cut.Items[len(cut.Items)-1]
		after = &cursor.TimeID{At: last.OccurredAt, ID: last.ID}
	}
	var err error
	out.Hidden, err = s.q.ActivityCount(ctx, dbq.ActivityCountParams{
		IncludeAudit: hidden.audit, IncludeMonitoring: hidden.monitoring, IncludeIntel: hidden.intel,
		IncludeAlert: hidden.alert, HostID: f.HostID, Severity: f.Severity, Since: f.Since, Until: f.Until,
		BeforeAt: cursor.AtOrNil(page.After), BeforeID: cursor.IDOrNil(page.After), AfterAt: cursor.AtOrNil(after),
		AfterID: cursor.IDOrNil(after)})
	if err != nil {
		return Page{}, pg.Translate(err)
	}
	return out, nil
}

func item(r dbq.ActivityFeed) Item {
	it := Item{ID: r.ID, Source: r.Source, Severity: r.Severity, HostID: r.HostID, Title: r.Title,
		Summary: r.Summary, OccurredAt: r.OccurredAt}
	if r.Source == SourceIntelligence {
		it.Title, it.Summary = intel.DescribeEvent(r.Title, r.Detail)
	}
	return it
}
