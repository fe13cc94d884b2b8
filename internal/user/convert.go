package user

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func toAPI(u dbq.User) api.UserResponse {
	lpc := u.LastPasswordChangeAt
	return api.UserResponse{
		Id: u.ID, Username: u.Username, Email: u.Email, Roles: []string{u.Role},
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastPasswordChangeAt: &lpc, DisabledAt: u.DisabledAt,
	}
}
