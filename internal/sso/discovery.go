package sso

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
)

// discoveryTTL is how long a provider's discovery document (and with it its cached
// signing keys) is reused for sign-ins.
const discoveryTTL = 5 * time.Minute

type cachedProvider struct {
	op      *oidc.Provider
	fetched time.Time
}

// Discovery is what an issuer's discovery document says.
type Discovery struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	ScopesSupported               []string `json:"scopes_supported"`
	ClaimsSupported               []string `json:"claims_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
}

func errUnreachable(issuer string, err error) error {
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return &apperr.Error{Code: apperr.CodeSSOUnreachable, Err: err,
		Message: fmt.Sprintf("The discovery document of %s could not be used: %s", issuer, msg)}
}

// clientContext carries the service's HTTP client to go-oidc and x/oauth2.
func (s *Service) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, s.opts.HTTPClient)
}

// fetch reads an issuer's discovery document; go-oidc refuses one naming another issuer.
func (s *Service) fetch(ctx context.Context, issuer string) (*oidc.Provider, Discovery, error) {
	op, err := oidc.NewProvider(s.clientContext(ctx), issuer)
	if err != nil {
		return nil, Discovery{}, errUnreachable(issuer, err)
	}
	var d Discovery
	if err := op.Claims(&d); err != nil {
		return nil, Discovery{}, errUnreachable(issuer, err)
	}
	return op, d, nil
}

// provider returns the issuer's provider, from the cache when fetched recently.
func (s *Service) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := s.opts.Now()
	s.mu.Lock()
	c, ok := s.discovery[issuer]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < discoveryTTL && now.Sub(c.fetched) >= 0 {
		return c.op, nil
	}
	op, _, err := s.fetch(ctx, issuer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.discovery[issuer] = cachedProvider{op: op, fetched: now}
	s.mu.Unlock()
	return op, nil
}

// forget drops the cached discovery of issuer.
func (s *Service) forget(issuer string) {
	s.mu.Lock()
	delete(s.discovery, issuer)
	s.mu.Unlock()
}

// Discover fetches the discovery document of issuer. Guarded by admin:sso_provider.
// Errors: validation_failed (issuer), sso.provider_unreachable.
func (s *Service) Discover(ctx context.Context, issuer string) (Discovery, error) {
	if err := checkIssuer("issuer", issuer); err != nil {
		return Discovery{}, err
	}
	_, d, err := s.fetch(ctx, issuer)
	return d, err
}

// Check is one check of a connection test.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Test checks that provider id can be used: its discovery document, its support of the
// code flow, PKCE S256 and the configured scopes, and its signing keys. Guarded by
// admin:sso_provider. Errors: resource.not_found.
func (s *Service) Test(ctx context.Context, id uuid.UUID) ([]Check, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	s.forget(p.Issuer)
	_, d, err := s.fetch(ctx, p.Issuer)
	if err != nil {
		return []Check{{Name: "discovery", Detail: apperr.As(err).HumanMessage()}}, nil
	}
	checks := []Check{{Name: "discovery", OK: true, Detail: "The discovery document names the issuer " + d.Issuer + "."}}
	supports := func(name string, list []string, want, what string) {
		c := Check{Name: name, OK: slices.Contains(list, want)}
		switch {
		case c.OK:
			c.Detail = "The provider supports " + what + "."
		case len(list) == 0:
			c.Detail = "The provider does not say whether it supports " + what + "."
		default:
			c.Detail = "The provider does not support " + what + " (it lists " + strings.Join(list, ", ") + ")."
		}
		checks = append(checks, c)
	}
	supports("authorization_code", d.ResponseTypesSupported, "code", "the authorization code flow")
	supports("pkce_s256", d.CodeChallengeMethodsSupported, "S256", "PKCE with S256")
	var missing []string
	for _, sc := range p.Scopes {
		if len(d.ScopesSupported) > 0 && !slices.Contains(d.ScopesSupported, sc) {
			missing = append(missing, sc)
		}
	}
	sc := Check{Name: "scopes", OK: len(missing) == 0, Detail: "The provider supports the configured scopes."}
	if len(missing) > 0 {
		sc.Detail = "The provider does not list these configured scopes: " + strings.Join(missing, ", ") + "."
	}
	checks = append(checks, sc)
	checks = append(checks, s.checkKeys(ctx, d.JWKSURI))
	return checks, nil
}

// checkKeys fetches the provider's JSON Web Key Set and counts its keys.
func (s *Service) checkKeys(ctx context.Context, uri string) Check {
	c := Check{Name: "signing_keys"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		c.Detail = "The jwks_uri is not a valid URL."
		return c
	}
	res, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		c.Detail = "The signing keys could not be fetched: " + err.Error()
		return c
	}
	defer res.Body.Close()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case err != nil:
		c.Detail = "The signing keys could not be read: " + err.Error()
	case res.StatusCode != http.StatusOK:
		c.Detail = "The signing keys answered " + res.Status + "."
	case json.Unmarshal(body, &set) != nil || len(set.Keys) == 0:
		c.Detail = "The jwks_uri does not serve a key set with keys."
	default:
		c.OK, c.Detail = true, fmt.Sprintf("The provider publishes %d signing key(s).", len(set.Keys))
	}
	return c
}
