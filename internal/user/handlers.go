package user

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
)

// Handlers implements the user operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the user handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// CreateUser implements POST /users (user:write).
func (h *Handlers) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	in := CreateInput{Username: req.Body.Username, Email: string(req.Body.Email), Password: req.Body.Password}
	if req.Body.Role != nil {
		in.Role = string(*req.Body.Role)
	}
	u, err := h.svc.Create(ctx, in)
	if err != nil {
		return nil, err
	}
	return api.CreateUser201JSONResponse(toAPI(u)), nil
}
