package sshca

import (
	"bytes"
	"context"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the SSH CA and host certificate operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GetSSHUserCA implements GET /ssh-ca/user (host:read).
func (h *Handlers) GetSSHUserCA(ctx context.Context, _ api.GetSSHUserCARequestObject) (api.GetSSHUserCAResponseObject, error) {
	ca, err := h.svc.Get(ctx, KindUser)
	if err != nil {
		return nil, err
	}
	return api.GetSSHUserCA200JSONResponse(toAPICA(ca)), nil
}

// GetSSHHostCA implements GET /ssh-ca/host (host:read).
func (h *Handlers) GetSSHHostCA(ctx context.Context, _ api.GetSSHHostCARequestObject) (api.GetSSHHostCAResponseObject, error) {
	ca, err := h.svc.Get(ctx, KindHost)
	if err != nil {
		return nil, err
	}
	return api.GetSSHHostCA200JSONResponse(toAPICA(ca)), nil
}

// RotateSSHCA implements POST /ssh-ca/{kind}:rotate (system:config:write).
func (h *Handlers) RotateSSHCA(ctx context.Context, req api.RotateSSHCARequestObject) (api.RotateSSHCAResponseObject, error) {
	overlap := DefaultOverlap
	if req.Body != nil && req.Body.OverlapHours != nil {
		overlap = time.Duration(*req.Body.OverlapHours) * time.Hour
	}
	ca, err := h.svc.Rotate(ctx, authz.PrincipalFrom(ctx), req.Kind, overlap)
	if err != nil {
		return nil, err
	}
	return api.RotateSSHCA200JSONResponse(toAPICA(ca)), nil
}

// GetSSHKRL implements GET /ssh-ca/krl (host:read).
func (h *Handlers) GetSSHKRL(ctx context.Context, _ api.GetSSHKRLRequestObject) (api.GetSSHKRLResponseObject, error) {
	krl, err := h.svc.KRL(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetSSHKRL200ApplicationoctetStreamResponse{Body: bytes.NewReader(krl), ContentLength: int64(len(krl))}, nil
}

// ListHostCertificates implements GET /hosts/{host_id}/certificates (host:read).
func (h *Handlers) ListHostCertificates(ctx context.Context, req api.ListHostCertificatesRequestObject) (api.ListHostCertificatesResponseObject, error) {
	p := req.Params
	f := Filter{HostID: &req.HostId, Status: (*string)(p.Status)}
	page, err := cursor.Serve(ctx, cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListHostCertificatesPageLimit()),
		func(ctx context.Context, r cursor.Request[cursor.TimeID]) (cursor.Page[Certificate], error) {
			return h.svc.List(ctx, f, r)
		},
		toAPICert)
	if err != nil {
		return nil, err
	}
	return api.ListHostCertificates200JSONResponse{Certificates: page.Items, NextCursor: page.Next}, nil
}

// ListCertificates implements GET /certificates (host:read).
func (h *Handlers) ListCertificates(ctx context.Context, req api.ListCertificatesRequestObject) (api.ListCertificatesResponseObject, error) {
	p := req.Params
	f := Filter{Status: (*string)(p.Status), ExpiringWithinDays: p.ExpiringWithinDays}
	page, err := cursor.Serve(ctx, cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListCertificatesPageLimit()),
		func(ctx context.Context, r cursor.Request[cursor.TimeID]) (cursor.Page[Certificate], error) {
			return h.svc.List(ctx, f, r)
		},
		toAPICert)
	if err != nil {
		return nil, err
	}
	return api.ListCertificates200JSONResponse{Certificates: page.Items, NextCursor: page.Next}, nil
}

func validityDays(days *int) time.Duration {
	if days == nil {
		return DefaultHostCertValidity
	}
	return time.Duration(*days) * 24 * time.Hour
}

// IssueHostCertificate implements POST /hosts/{host_id}/certificates (host:write).
func (h *Handlers) IssueHostCertificate(ctx context.Context, req api.IssueHostCertificateRequestObject) (api.IssueHostCertificateResponseObject, error) {
	var extra []string
	var days *int
	if req.Body != nil {
		days = req.Body.ValidityDays
		if req.Body.Principals != nil {
			extra = *req.Body.Principals
		}
	}
	c, err := h.svc.Issue(ctx, authz.PrincipalFrom(ctx), req.HostId, extra, validityDays(days))
	if err != nil {
		return nil, err
	}
	return api.IssueHostCertificate201JSONResponse(toAPICert(c)), nil
}

// ReissueHostCertificate implements POST /hosts/{host_id}/certificates:reissue (host:write).
func (h *Handlers) ReissueHostCertificate(ctx context.Context, req api.ReissueHostCertificateRequestObject) (api.ReissueHostCertificateResponseObject, error) {
	var extra []string
	var days *int
	if req.Body != nil {
		days = req.Body.ValidityDays
		if req.Body.Principals != nil {
			extra = *req.Body.Principals
		}
	}
	c, err := h.svc.Reissue(ctx, authz.PrincipalFrom(ctx), req.HostId, extra, validityDays(days))
	if err != nil {
		return nil, err
	}
	return api.ReissueHostCertificate201JSONResponse(toAPICert(c)), nil
}

// RenewHostCertificate implements POST /certificates/{id}:renew (host:write).
func (h *Handlers) RenewHostCertificate(ctx context.Context, req api.RenewHostCertificateRequestObject) (api.RenewHostCertificateResponseObject, error) {
	var days *int
	if req.Body != nil {
		days = req.Body.ValidityDays
	}
	c, err := h.svc.Renew(ctx, authz.PrincipalFrom(ctx), req.Id, validityDays(days))
	if err != nil {
		return nil, err
	}
	return api.RenewHostCertificate201JSONResponse(toAPICert(c)), nil
}

// RevokeHostCertificate implements POST /certificates/{id}:revoke (host:write).
func (h *Handlers) RevokeHostCertificate(ctx context.Context, req api.RevokeHostCertificateRequestObject) (api.RevokeHostCertificateResponseObject, error) {
	reason := ""
	if req.Body != nil && req.Body.Reason != nil {
		reason = *req.Body.Reason
	}
	c, err := h.svc.Revoke(ctx, authz.PrincipalFrom(ctx), req.Id, reason)
	if err != nil {
		return nil, err
	}
	return api.RevokeHostCertificate200JSONResponse(toAPICert(c)), nil
}

func toAPIExpiry(c ExpiryConfig) api.SSHCertificateConfig {
	return api.SSHCertificateConfig{WarnDays: c.WarnDays, AutoRenew: c.AutoRenew}
}

// GetSSHCertificateConfig implements GET /system/ssh-certificates/config (system:read).
func (h *Handlers) GetSSHCertificateConfig(ctx context.Context, _ api.GetSSHCertificateConfigRequestObject) (api.GetSSHCertificateConfigResponseObject, error) {
	cfg, err := h.svc.ExpiryConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetSSHCertificateConfig200JSONResponse{Config: toAPIExpiry(cfg), Defaults: toAPIExpiry(DefaultExpiryConfig)}, nil
}

// PutSSHCertificateConfig implements PUT /system/ssh-certificates/config (system:config:write).
func (h *Handlers) PutSSHCertificateConfig(ctx context.Context, req api.PutSSHCertificateConfigRequestObject) (api.PutSSHCertificateConfigResponseObject, error) {
	cfg, err := h.svc.SetExpiryConfig(ctx, authz.PrincipalFrom(ctx), ExpiryConfig{WarnDays: req.Body.WarnDays, AutoRenew: req.Body.AutoRenew})
	if err != nil {
		return nil, err
	}
	return api.PutSSHCertificateConfig200JSONResponse(toAPIExpiry(cfg)), nil
}
