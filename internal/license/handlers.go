package license

import (
	"context"
	"errors"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the license operations.
type Handlers struct {
	m  *Manager
	v  *Verifier
	aw *audit.Writer
}

// NewHandlers returns the license handlers.
func NewHandlers(m *Manager, v *Verifier, aw *audit.Writer) *Handlers {
	return &Handlers{m: m, v: v, aw: aw}
}

// HasFeature reports whether the current license includes feature; the HTTP layer gates
// operations marked x-license-feature with it.
func (m *Manager) HasFeature(feature string) bool { return m.Current().Has(Feature(feature)) }

// GetLicense implements GET /license (license:read).
func (h *Handlers) GetLicense(context.Context, api.GetLicenseRequestObject) (api.GetLicenseResponseObject, error) {
	return api.GetLicense200JSONResponse(stateResponse(h.m.Current())), nil
}

// InstallLicense implements PUT /admin/license (license:manage): a license in force
// replaces the license file and is loaded at once; any other is a 400 on license_jwt.
func (h *Handlers) InstallLicense(ctx context.Context, req api.InstallLicenseRequestObject) (api.InstallLicenseResponseObject, error) {
	before, after, err := h.m.Install(req.Body.LicenseJwt)
	var notInForce *NotInForceError
	switch {
	case errors.As(err, &notInForce):
		return nil, apperr.Invalid("license_jwt", notInForce.Reason).WithDetail("verify_result", notInForce.Result)
	case err != nil:
		return nil, err
	}
	detail := map[string]any{
		"tier": string(after.Tier), "status": string(after.Status), "customer_id": after.CustomerID,
		"previous_tier": string(before.Tier), "previous_status": string(before.Status),
	}
	if after.ExpiresAt != nil {
		detail["expires_at"] = after.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if err := h.aw.AppendAlone(ctx, audit.For(ctx, authz.PrincipalFrom(ctx), audit.ActionLicenseInstalled, "license", "", detail)); err != nil {
		return nil, err
	}
	return api.InstallLicense200JSONResponse(stateResponse(after)), nil
}

// stateResponse is the API's view of a State.
func stateResponse(st State) api.LicenseStateResponse {
	out := api.LicenseStateResponse{
		Tier: api.LicenseStateResponseTier(st.Tier), Status: api.LicenseStateResponseStatus(st.Status),
		Features: featureStrings(st.Features), ExpiresAt: st.ExpiresAt,
		InGracePeriod: &st.InGracePeriod, UsingPrevKey: &st.UsingPrevKey,
	}
	if st.CustomerID != "" {
		out.CustomerId = &st.CustomerID
	}
	if len(st.Warnings) > 0 {
		w := append([]string{}, st.Warnings...)
		out.Warnings = &w
	}
	return out
}

// VerifyLicense implements POST /admin/license:verify (license:manage).
func (h *Handlers) VerifyLicense(ctx context.Context, req api.VerifyLicenseRequestObject) (api.VerifyLicenseResponseObject, error) {
	r := h.v.Verify(req.Body.LicenseJwt)
	detail := map[string]any{"valid": r.Valid, "result": r.Result}
	if r.Tier != nil {
		detail["tier"] = string(*r.Tier)
	}
	if err := h.aw.AppendAlone(ctx, audit.For(ctx, authz.PrincipalFrom(ctx), audit.ActionLicenseVerified, "license", "", detail)); err != nil {
		return nil, err
	}
	out := api.VerifyLicense200JSONResponse{IsValid: r.Valid, VerifyResult: r.Result, ExpiresAt: r.ExpiresAt}
	if r.Tier != nil {
		t := string(*r.Tier)
		out.Tier = &t
	}
	if r.Features != nil {
		f := featureStrings(r.Features)
		out.Features = &f
	}
	if len(r.Warnings) > 0 {
		w := append([]string{}, r.Warnings...)
		out.Warnings = &w
	}
	return out, nil
}

func featureStrings(fs []Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}
