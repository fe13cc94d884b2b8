package host

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the host operations.
type Handlers struct {
	svc        *Service
	compliance ComplianceReader
}

// ComplianceReader reads a host's compliance rollup for one framework (package scan
// implements it): 400 naming framework when it is unknown.
type ComplianceReader interface {
	HostCompliance(ctx context.Context, hostID uuid.UUID, framework string) (Compliance, error)
}

// NewHandlers returns the host handlers; compliance answers ?framework= on a host detail
// (nil: only the rollup over every rule, which the detail query reads itself).
func NewHandlers(svc *Service, compliance ComplianceReader) *Handlers {
	return &Handlers{svc: svc, compliance: compliance}
}

// ListHosts implements GET /hosts (host:read); pages come from the service's page cache.
func (h *Handlers) ListHosts(ctx context.Context, req api.ListHostsRequestObject) (api.ListHostsResponseObject, error) {
	p := req.Params
	page, err := cursor.Parse(cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListHostsPageLimit()))
	if err != nil {
		return nil, err
	}
	f := Filter{Environment: p.Environment, Tag: p.Tag, GroupID: p.GroupId, Q: p.Q, Maintenance: p.Maintenance}
	b, err := h.svc.ListEncoded(ctx, f, page, encodeList)
	if err != nil {
		return nil, err
	}
	return encodedPage(b), nil
}

// encodeList renders a host list page as the JSON answer of GET /hosts.
func encodeList(p ListPage) ([]byte, error) {
	out := api.ListHosts200JSONResponse{Hosts: make([]api.HostListItem, 0, len(p.Hosts.Items)), NextCursor: p.Hosts.Next}
	for _, r := range p.Hosts.Items {
		item := listItem(r)
		if l, ok := p.Liveness[r.LiveHost.ID]; ok {
			item.Liveness = livenessSummary(l)
		}
		out.Hosts = append(out.Hosts, item)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// encodedPage is a GET /hosts answer already encoded as JSON.
type encodedPage []byte

// VisitListHostsResponse writes the page with its length, so the body goes out whole in
// one write rather than chunked (a compressing writer drops the length).
func (e encodedPage) VisitListHostsResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(e)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(e)
	return err
}

// CreateHost implements POST /hosts (host:write).
func (h *Handlers) CreateHost(ctx context.Context, req api.CreateHostRequestObject) (api.CreateHostResponseObject, error) {
	b := req.Body
	in := CreateInput{Hostname: b.Hostname, IPAddress: b.IpAddress, GroupID: b.GroupId}
	if b.Port != nil {
		in.Port = *b.Port
	}
	if b.DisplayName != nil {
		in.DisplayName = *b.DisplayName
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	if b.Environment != nil {
		in.Environment = *b.Environment
	}
	if b.Tags != nil {
		in.Tags = *b.Tags
	}
	if b.Username != nil {
		in.Username = *b.Username
	}
	host, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateHost201JSONResponse(toAPI(host)), nil
}

// GetHost implements GET /hosts/{id} (host:read).
func (h *Handlers) GetHost(ctx context.Context, req api.GetHostRequestObject) (api.GetHostResponseObject, error) {
	host, live, summary, err := h.svc.Detail(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if fw := req.Params.Framework; fw != nil && *fw != "" && *fw != "all" && h.compliance != nil {
		if summary, err = h.compliance.HostCompliance(ctx, req.Id, *fw); err != nil {
			return nil, err
		}
	}
	return api.GetHost200JSONResponse{Host: toAPI(host), Liveness: livenessDetail(live), ComplianceSummary: toSummary(summary)}, nil
}

// UpdateHost implements PATCH /hosts/{id} (host:write).
func (h *Handlers) UpdateHost(ctx context.Context, req api.UpdateHostRequestObject) (api.UpdateHostResponseObject, error) {
	b := req.Body
	host, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, UpdateInput{
		IPAddress: b.IpAddress, Port: b.Port, DisplayName: b.DisplayName, Description: b.Description,
		Environment: b.Environment, Tags: b.Tags, GroupID: b.GroupId, Username: b.Username,
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateHost200JSONResponse(toAPI(host)), nil
}

// DeleteHost implements DELETE /hosts/{id} (host:delete).
func (h *Handlers) DeleteHost(ctx context.Context, req api.DeleteHostRequestObject) (api.DeleteHostResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteHost204Response{}, nil
}

// SetHostMaintenance implements POST /hosts/{host_id}/maintenance (host:write).
func (h *Handlers) SetHostMaintenance(ctx context.Context, req api.SetHostMaintenanceRequestObject) (api.SetHostMaintenanceResponseObject, error) {
	host, err := h.svc.SetMaintenance(ctx, authz.PrincipalFrom(ctx), req.HostId, req.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.SetHostMaintenance200JSONResponse(toAPI(host)), nil
}

// PutHostMaintenance implements PUT /hosts/{host_id}/maintenance, the same as POST.
func (h *Handlers) PutHostMaintenance(ctx context.Context, req api.PutHostMaintenanceRequestObject) (api.PutHostMaintenanceResponseObject, error) {
	host, err := h.svc.SetMaintenance(ctx, authz.PrincipalFrom(ctx), req.HostId, req.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.PutHostMaintenance200JSONResponse(toAPI(host)), nil
}

// toSummary is the seed's HostComplianceSummary: total counts every result.
func toSummary(c Compliance) api.HostComplianceSummary {
	out := api.HostComplianceSummary{Passing: int64(c.Pass), Failing: int64(c.Fail), Skipped: int64(c.Skipped),
		Error: int64(c.Error), Total: int64(c.Pass + c.Fail + c.Skipped + c.Error + c.Excepted)}
	if c.Excepted > 0 {
		n := int64(c.Excepted)
		out.Excepted = &n
	}
	return out
}
