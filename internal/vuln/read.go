package vuln

import (
	"context"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// ListFilter narrows the fleet list.
type ListFilter struct {
	Severity, Package, Q *string
	GroupID              *uuid.UUID
}

// RankKey is the cursor key of lists ordered most severe first.
type RankKey struct {
	Rank    int16  `json:"r"`
	ID      string `json:"i"`
	Package string `json:"p,omitempty"`
}

// HostKey is the cursor key of an advisory's hosts.
type HostKey struct {
	Host    uuid.UUID `json:"h"`
	Package string    `json:"p"`
}

// List pages the advisories exposing live hosts, most severe first. Guarded by
// vulnerability:read.
func (s *Service) List(ctx context.Context, f ListFilter, page cursor.Request[RankKey]) (cursor.Page[dbq.VulnListRow], error) {
	p := dbq.VulnListParams{Severity: f.Severity, Package: f.Package, GroupID: f.GroupID, Q: f.Q, RowLimit: page.Fetch()}
	if page.After != nil {
		p.AfterRank, p.AfterID = &page.After.Rank, &page.After.ID
	}
	rows, err := s.q.VulnList(ctx, p)
	if err != nil {
		return cursor.Page[dbq.VulnListRow]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.VulnListRow) RankKey { return RankKey{Rank: r.SeverityRank, ID: r.ID} }), nil
}

// Detail is an advisory with its affected entries, the live hosts exposed to it and
// those whose exposure an exception in force excepts.
type Detail struct {
	Advisory          dbq.VulnAdvisory
	Affected          []dbq.VulnAffected
	HostCount         int64
	ExceptedHostCount int64
}

// Get returns one advisory. Guarded by vulnerability:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id string) (Detail, error) {
	a, err := s.q.VulnGet(ctx, id)
	if err != nil {
		return Detail{}, pg.NotFoundAs(err, errNoAdvisory())
	}
	af, err := s.q.VulnAffectedOf(ctx, id)
	if err != nil {
		return Detail{}, pg.Translate(err)
	}
	n, err := s.q.VulnOpenHostCount(ctx, id)
	if err != nil {
		return Detail{}, pg.Translate(err)
	}
	return Detail{Advisory: a, Affected: af, HostCount: n.Exposed, ExceptedHostCount: n.Excepted}, nil
}

func errNoAdvisory() error { return apperr.NotFound("No imported advisory has this id.") }

// Hosts pages the live hosts exposed to an advisory. Guarded by vulnerability:read.
// Errors: resource.not_found for an unknown advisory.
func (s *Service) Hosts(ctx context.Context, id string, page cursor.Request[HostKey]) (cursor.Page[dbq.VulnHostsOfRow], error) {
	if _, err := s.q.VulnGet(ctx, id); err != nil {
		return cursor.Page[dbq.VulnHostsOfRow]{}, pg.NotFoundAs(err, errNoAdvisory())
	}
	p := dbq.VulnHostsOfParams{AdvisoryID: id, RowLimit: page.Fetch()}
	if page.After != nil {
		p.AfterHost, p.AfterPackage = &page.After.Host, &page.After.Package
	}
	rows, err := s.q.VulnHostsOf(ctx, p)
	if err != nil {
		return cursor.Page[dbq.VulnHostsOfRow]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.VulnHostsOfRow) HostKey { return HostKey{Host: r.HostID, Package: r.Package} }), nil
}

// OfHost pages a live host's open exposures, most severe first. Guarded by
// vulnerability:read. Errors: resource.not_found for an unknown host.
func (s *Service) OfHost(ctx context.Context, hostID uuid.UUID, severity *string, page cursor.Request[RankKey]) (cursor.Page[dbq.VulnOfHostRow], error) {
	if _, err := s.q.VulnHostInventory(ctx, hostID); err != nil {
		return cursor.Page[dbq.VulnOfHostRow]{}, pg.NotFoundAs(err, apperr.NotFound("The host does not exist."))
	}
	p := dbq.VulnOfHostParams{HostID: hostID, Severity: severity, RowLimit: page.Fetch()}
	if page.After != nil {
		p.AfterRank, p.AfterID, p.AfterPackage = &page.After.Rank, &page.After.ID, &page.After.Package
	}
	rows, err := s.q.VulnOfHost(ctx, p)
	if err != nil {
		return cursor.Page[dbq.VulnOfHostRow]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.VulnOfHostRow) RankKey {
		return RankKey{Rank: r.SeverityRank, ID: r.ID, Package: r.Package}
	}), nil
}

// Imports pages the import history, newest first. Guarded by vulnerability:read.
func (s *Service) Imports(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.VulnFeedImport], error) {
	rows, err := s.q.VulnImportList(ctx, dbq.VulnImportListParams{BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.VulnFeedImport]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.VulnFeedImport) uuid.UUID { return r.ID }), nil
}
