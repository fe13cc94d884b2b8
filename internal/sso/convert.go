package sso

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPI(p Provider) api.SSOProvider {
	out := api.SSOProvider{
		Id: p.ID, Name: p.Name, Issuer: p.Issuer, ClientId: p.ClientID, ClientSecretSet: p.SecretSet,
		Scopes: p.Scopes, GroupsClaim: p.GroupsClaim, RoleMappings: make([]api.SSORoleMapping, len(p.Mappings)),
		DefaultRole: p.DefaultRole, Enabled: p.Enabled, SsoOnly: p.SSOOnly, CallbackPath: CallbackPath(p.ID),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p.SecretSet {
		mask := Mask
		out.ClientSecret = &mask
	}
	for i, m := range p.Mappings {
		out.RoleMappings[i] = api.SSORoleMapping{Group: m.Group, Role: m.Role}
	}
	return out
}

func fromAPI(b api.SSOProviderInput) Input {
	in := Input{Name: b.Name, Issuer: b.Issuer, ClientID: b.ClientId, ClientSecret: b.ClientSecret,
		DefaultRole: b.DefaultRole, Enabled: true}
	if b.Scopes != nil {
		in.Scopes = *b.Scopes
	}
	if b.GroupsClaim != nil {
		in.GroupsClaim = *b.GroupsClaim
	}
	if b.RoleMappings != nil {
		for _, m := range *b.RoleMappings {
			in.Mappings = append(in.Mappings, Mapping{Group: m.Group, Role: m.Role})
		}
	}
	if b.Enabled != nil {
		in.Enabled = *b.Enabled
	}
	if b.SsoOnly != nil {
		in.SSOOnly = *b.SsoOnly
	}
	return in
}

func toAPIDiscovery(d Discovery) api.SSODiscovery {
	out := api.SSODiscovery{
		Issuer: d.Issuer, AuthorizationEndpoint: d.AuthorizationEndpoint, TokenEndpoint: d.TokenEndpoint, JwksUri: d.JWKSURI,
		ScopesSupported: nonNil(d.ScopesSupported), ClaimsSupported: nonNil(d.ClaimsSupported),
		CodeChallengeMethodsSupported: nonNil(d.CodeChallengeMethodsSupported),
	}
	if d.UserinfoEndpoint != "" {
		out.UserinfoEndpoint = &d.UserinfoEndpoint
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
