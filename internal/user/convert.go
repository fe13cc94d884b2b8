package user

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPI(u User) api.UserResponse {
	lpc := u.LastPasswordChangeAt
	mfa := u.MfaEnabledAt != nil
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return api.UserResponse{
		Id: u.ID, Username: u.Username, Email: u.Email, Roles: roles,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastPasswordChangeAt: &lpc, DisabledAt: u.DisabledAt,
		MfaEnabled: &mfa,
	}
}
