package hostkey

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/hostssh"
)

// Handlers implements the host key and SSH settings operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHostKeys implements GET /hosts/{id}/host-keys (host:read).
func (h *Handlers) ListHostKeys(ctx context.Context, req api.ListHostKeysRequestObject) (api.ListHostKeysResponseObject, error) {
	rows, err := h.svc.Keys(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ListHostKeys200JSONResponse(keyList(req.Id, rows)), nil
}

// ApproveHostKey implements POST /hosts/{id}/host-keys:approve (host:write).
func (h *Handlers) ApproveHostKey(ctx context.Context, req api.ApproveHostKeyRequestObject) (api.ApproveHostKeyResponseObject, error) {
	rows, err := h.svc.Approve(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.FingerprintSha256)
	if err != nil {
		return nil, err
	}
	return api.ApproveHostKey200JSONResponse(keyList(req.Id, rows)), nil
}

// ResetHostKeys implements POST /hosts/{id}/host-keys:reset (host:write).
func (h *Handlers) ResetHostKeys(ctx context.Context, req api.ResetHostKeysRequestObject) (api.ResetHostKeysResponseObject, error) {
	if err := h.svc.Reset(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.ResetHostKeys204Response{}, nil
}

// GetSSHConfig implements GET /system/ssh/config (system:read).
func (h *Handlers) GetSSHConfig(ctx context.Context, _ api.GetSSHConfigRequestObject) (api.GetSSHConfigResponseObject, error) {
	cfg, err := h.svc.Config(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetSSHConfig200JSONResponse{Config: toAPIConfig(cfg), Defaults: toAPIConfig(hostssh.DefaultConfig)}, nil
}

// PutSSHConfig implements PUT /system/ssh/config (system:config:write).
func (h *Handlers) PutSSHConfig(ctx context.Context, req api.PutSSHConfigRequestObject) (api.PutSSHConfigResponseObject, error) {
	cfg, err := h.svc.SetConfig(ctx, authz.PrincipalFrom(ctx), fromAPIConfig(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.PutSSHConfig200JSONResponse(toAPIConfig(cfg)), nil
}
