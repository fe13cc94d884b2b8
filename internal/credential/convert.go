package credential

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPI(c Credential) api.CredentialResponse {
	r := api.CredentialResponse{
		Id: c.ID, Scope: api.CredentialResponseScope(c.Scope), ScopeId: c.ScopeID, Name: c.Name,
		Description: &c.Description, Username: c.Username, AuthMethod: api.CredentialResponseAuthMethod(c.AuthMethod),
		SshKeyType: c.KeyType, SshKeyBits: c.KeyBits, SshKeyFingerprint: c.KeyFingerprint, SshKeyComment: c.KeyComment,
		IsDefault: c.IsDefault, IsActive: c.IsActive, CreatedAt: &c.CreatedAt, UpdatedAt: &c.UpdatedAt,
	}
	if c.CreatedBy != "" {
		r.CreatedBy = &c.CreatedBy
	}
	return r
}
