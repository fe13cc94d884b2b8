package host

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the host operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the host handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHosts implements GET /hosts (host:read). Pages are served from a cache that every
// inventory change clears, so a busy dashboard does not re-read and re-encode the same
// page; the answer is identical either way.
func (h *Handlers) ListHosts(ctx context.Context, req api.ListHostsRequestObject) (api.ListHostsResponseObject, error) {
	p := req.Params
	key := pageKey(p)
	page, gen := h.svc.pages.get(key)
	if page != nil {
		return encodedPage(page), nil
	}
	rows, next, err := h.svc.List(ctx, Filter{Environment: p.Environment, Tag: p.Tag, GroupID: p.GroupId, Q: p.Q,
		Maintenance: p.Maintenance, Limit: p.Limit, Cursor: p.Cursor})
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	live, err := h.svc.LivenessSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := api.ListHosts200JSONResponse{Hosts: make([]api.HostListItem, 0, len(rows)), NextCursor: next}
	for _, r := range rows {
		item := listItem(r)
		if l, ok := live[r.ID]; ok {
			item.Liveness = livenessSummary(l)
		}
		out.Hosts = append(out.Hosts, item)
	}
	page, err = json.Marshal(out)
	if err != nil {
		return nil, err
	}
	page = append(page, '\n')
	h.svc.pages.put(key, gen, page)
	return encodedPage(page), nil
}

// pageKey identifies a page by every parameter that shapes it.
func pageKey(p api.ListHostsParams) string {
	var b strings.Builder
	add := func(name string, v *string) {
		if v != nil {
			b.WriteString(name)
			b.WriteString(strconv.Quote(*v))
		}
	}
	add("e", p.Environment)
	add("t", p.Tag)
	add("q", p.Q)
	add("c", p.Cursor)
	if p.GroupId != nil {
		b.WriteString("g" + p.GroupId.String())
	}
	if p.Maintenance != nil {
		b.WriteString("m" + strconv.FormatBool(*p.Maintenance))
	}
	if p.Limit != nil {
		b.WriteString("l" + strconv.Itoa(*p.Limit))
	}
	return b.String()
}

// encodedPage is a GET /hosts answer already encoded as JSON.
type encodedPage []byte

func (e encodedPage) VisitListHostsResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
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
	host, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	live, err := h.svc.Liveness(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetHost200JSONResponse{Host: toAPI(host), Liveness: livenessDetail(live), ComplianceSummary: api.HostComplianceSummary{}}, nil
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
