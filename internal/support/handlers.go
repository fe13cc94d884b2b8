package support

import (
	"bytes"
	"context"
	"fmt"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the support bundle operation.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// CreateSysdump implements POST /support/sysdump (support:sysdump).
func (h *Handlers) CreateSysdump(ctx context.Context, _ api.CreateSysdumpRequestObject) (api.CreateSysdumpResponseObject, error) {
	b, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	disposition := fmt.Sprintf("attachment; filename=%q", b.Name)
	return api.CreateSysdump200ApplicationgzipResponse{Body: bytes.NewReader(b.Data), ContentLength: int64(len(b.Data)),
		Headers: api.CreateSysdump200ResponseHeaders{ContentDisposition: &disposition}}, nil
}
