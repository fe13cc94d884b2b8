package vuln

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the vulnerability operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the vulnerability handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

func str[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}

// ListVulnerabilities implements GET /vulnerabilities (vulnerability:read).
func (h *Handlers) ListVulnerabilities(ctx context.Context, req api.ListVulnerabilitiesRequestObject) (api.ListVulnerabilitiesResponseObject, error) {
	p := req.Params
	f := ListFilter{Severity: str(p.Severity), Package: p.Package, Q: p.Q, GroupID: p.GroupId}
	page, err := cursor.Serve(ctx, cursor.JSON[RankKey]{}, p.Cursor, p.Limit, cursor.Limits(api.ListVulnerabilitiesPageLimit()),
		func(ctx context.Context, r cursor.Request[RankKey]) (cursor.Page[dbq.VulnListRow], error) {
			return h.svc.List(ctx, f, r)
		},
		toAPIVulnerability)
	if err != nil {
		return nil, err
	}
	return api.ListVulnerabilities200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetVulnerability implements GET /vulnerabilities/{vulnerability_id} (vulnerability:read).
func (h *Handlers) GetVulnerability(ctx context.Context, req api.GetVulnerabilityRequestObject) (api.GetVulnerabilityResponseObject, error) {
	d, err := h.svc.Get(ctx, req.VulnerabilityId)
	if err != nil {
		return nil, err
	}
	a := d.Advisory
	out := api.VulnerabilityDetail{Id: a.ID, Aliases: nonNil(a.Aliases), Summary: a.Summary, Details: a.Details,
		Severity: api.VulnerabilitySeverity(a.Severity), CvssScore: a.CvssScore, CvssVector: a.CvssVector, Published: a.Published,
		Modified: a.Modified, Withdrawn: a.Withdrawn, Source: a.Source, HostCount: d.HostCount, ExceptedHostCount: d.ExceptedHostCount, Affected: []api.VulnerabilityAffected{}}
	for _, af := range d.Affected {
		item := api.VulnerabilityAffected{Release: af.Release, Ecosystem: af.Ecosystem, Package: af.Package, Versions: nonNil(af.Versions)}
		if err := json.Unmarshal(af.Ranges, &item.Ranges); err != nil {
			return nil, err
		}
		if item.Ranges == nil {
			item.Ranges = [][]struct {
				Fixed        *string `json:"fixed,omitempty"`
				Introduced   *string `json:"introduced,omitempty"`
				LastAffected *string `json:"last_affected,omitempty"`
				Limit        *string `json:"limit,omitempty"`
			}{}
		}
		out.Affected = append(out.Affected, item)
	}
	return api.GetVulnerability200JSONResponse(out), nil
}

// ListVulnerabilityHosts implements GET /vulnerabilities/{vulnerability_id}/hosts
// (vulnerability:read).
func (h *Handlers) ListVulnerabilityHosts(ctx context.Context, req api.ListVulnerabilityHostsRequestObject) (api.ListVulnerabilityHostsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.JSON[HostKey]{}, p.Cursor, p.Limit, cursor.Limits(api.ListVulnerabilityHostsPageLimit()),
		func(ctx context.Context, r cursor.Request[HostKey]) (cursor.Page[dbq.VulnHostsOfRow], error) {
			return h.svc.Hosts(ctx, req.VulnerabilityId, r)
		},
		func(r dbq.VulnHostsOfRow) api.VulnerableHost {
			v := api.VulnerableHost{HostId: r.HostID, Hostname: r.Hostname, DisplayName: r.DisplayName, Package: r.Package,
				Release: r.Release, InstalledVersion: r.InstalledVersion, FixedVersion: r.FixedVersion,
				FixInstallable: r.FixedVersion != nil, Binaries: nonNil(r.Binaries), FirstSeen: r.FirstSeen}
			v.Status, v.ExceptionId = exposureStatus(r.ExceptionID)
			return v
		})
	if err != nil {
		return nil, err
	}
	return api.ListVulnerabilityHosts200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// ListHostVulnerabilities implements GET /hosts/{host_id}/vulnerabilities (vulnerability:read).
func (h *Handlers) ListHostVulnerabilities(ctx context.Context, req api.ListHostVulnerabilitiesRequestObject) (api.ListHostVulnerabilitiesResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.JSON[RankKey]{}, p.Cursor, p.Limit, cursor.Limits(api.ListHostVulnerabilitiesPageLimit()),
		func(ctx context.Context, r cursor.Request[RankKey]) (cursor.Page[dbq.VulnOfHostRow], error) {
			return h.svc.OfHost(ctx, req.HostId, str(p.Severity), r)
		},
		func(r dbq.VulnOfHostRow) api.HostVulnerability {
			v := api.HostVulnerability{Id: r.ID, Aliases: nonNil(r.Aliases), Summary: r.Summary,
				Severity: api.VulnerabilitySeverity(r.Severity), CvssScore: r.CvssScore, Package: r.Package, Release: r.Release,
				InstalledVersion: r.InstalledVersion, FixedVersion: r.FixedVersion, FixInstallable: r.FixedVersion != nil,
				Binaries: nonNil(r.Binaries), FirstSeen: r.FirstSeen}
			v.Status, v.ExceptionId = exposureStatus(r.ExceptionID)
			return v
		})
	if err != nil {
		return nil, err
	}
	return api.ListHostVulnerabilities200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// ImportVulnerabilityFeed implements POST /vulnerabilities/feeds:import (vulnerability:feed).
func (h *Handlers) ImportVulnerabilityFeed(ctx context.Context, req api.ImportVulnerabilityFeedRequestObject) (api.ImportVulnerabilityFeedResponseObject, error) {
	name, source := "", ""
	if req.Params.FileName != nil {
		name = *req.Params.FileName
	}
	if req.Params.Source != nil {
		source = *req.Params.Source
	}
	res, err := h.svc.ImportUpload(ctx, authz.PrincipalFrom(ctx), req.Body, name, source)
	if err != nil {
		return nil, err
	}
	return api.ImportVulnerabilityFeed200JSONResponse(toAPIImport(res.Import)), nil
}

// ListVulnerabilityFeedImports implements GET /vulnerabilities/feeds/imports
// (vulnerability:read).
func (h *Handlers) ListVulnerabilityFeedImports(ctx context.Context, req api.ListVulnerabilityFeedImportsRequestObject) (api.ListVulnerabilityFeedImportsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListVulnerabilityFeedImportsPageLimit()),
		h.svc.Imports, toAPIImport)
	if err != nil {
		return nil, err
	}
	return api.ListVulnerabilityFeedImports200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// exposureStatus renders the exception (its id as text, empty for none) that excepts an
// exposure.
func exposureStatus(exceptionID string) (api.ExposureStatus, *uuid.UUID) {
	id, err := uuid.Parse(exceptionID)
	if err != nil {
		return api.ExposureStatusExposed, nil
	}
	return api.ExposureStatusExcepted, &id
}

func toAPIVulnerability(r dbq.VulnListRow) api.Vulnerability {
	return api.Vulnerability{Id: r.ID, Aliases: nonNil(r.Aliases), Summary: r.Summary, Severity: api.VulnerabilitySeverity(r.Severity),
		CvssScore: r.CvssScore, CvssVector: r.CvssVector, Published: r.Published, Modified: r.Modified, HostCount: r.HostCount,
		ExceptedHostCount: r.ExceptedHostCount, Packages: nonNil(r.Packages), FixedVersions: nonNil(r.FixedVersions)}
}

func toAPIImport(r dbq.VulnFeedImport) api.FeedImport {
	out := api.FeedImport{Id: r.ID, Source: r.Source, FileName: r.FileName, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMs: r.FinishedAt.Sub(r.StartedAt).Milliseconds(), ImportedBy: r.ImportedBy, Status: api.FeedImportStatus(r.Status),
		Added: int(r.Added), Updated: int(r.Updated), Unchanged: int(r.Unchanged), Withdrawn: int(r.Withdrawn), Rejected: int(r.Rejected),
		RematchedPackages: int(r.RematchedPackages), ExposuresOpened: int(r.ExposuresOpened), ExposuresResolved: int(r.ExposuresResolved),
		Rejections: []api.FeedImportRejection{}, Error: r.Error}
	var rej []Rejection
	if json.Unmarshal(r.Rejections, &rej) == nil {
		for _, x := range rej {
			item := api.FeedImportRejection{File: x.File, Reason: x.Reason}
			if x.ID != "" {
				id := x.ID
				item.Id = &id
			}
			out.Rejections = append(out.Rejections, item)
		}
	}
	return out
}
