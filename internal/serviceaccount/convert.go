package serviceaccount

import (
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func toAPI(a dbq.ServiceAccount) api.ServiceAccount {
	status := api.ServiceAccountStatusActive
	if a.DisabledAt != nil {
		status = api.ServiceAccountStatusDisabled
	}
	return api.ServiceAccount{
		Id: a.ID, Name: a.Name, Description: a.Description, Role: a.Role, Status: status,
		CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy, UpdatedAt: a.UpdatedAt, DisabledAt: a.DisabledAt,
	}
}

func tokenToAPI(t dbq.ApiToken, now time.Time) api.APITokenMeta {
	status := api.APITokenMetaStatusActive
	switch {
	case t.RevokedAt != nil:
		status = api.APITokenMetaStatusRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		status = api.APITokenMetaStatusExpired
	}
	return api.APITokenMeta{
		Id: t.ID, ServiceAccountId: t.ServiceAccountID, Name: t.Name, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: t.LastUsedAt, Role: t.Role, Status: status,
		HasSigningKey: t.SigningKeySealed != nil, SigningKeyCreatedAt: t.SigningKeyCreatedAt,
	}
}
