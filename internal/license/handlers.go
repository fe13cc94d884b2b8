package license

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
)

// Handlers implements the license operations.
type Handlers struct {
	m *Manager
	v *Verifier
}

// NewHandlers returns the license handlers.
func NewHandlers(m *Manager, v *Verifier) *Handlers { return &Handlers{m: m, v: v} }

// HasFeature reports whether the current license includes feature; the HTTP layer gates
// operations marked x-license-feature with it.
func (m *Manager) HasFeature(feature string) bool { return m.Current().Has(Feature(feature)) }

// GetLicense implements GET /license (license:read).
func (h *Handlers) GetLicense(context.Context, api.GetLicenseRequestObject) (api.GetLicenseResponseObject, error) {
	st := h.m.Current()
	out := api.GetLicense200JSONResponse{
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
	return out, nil
}

// VerifyLicense implements POST /admin/license:verify (license:manage).
func (h *Handlers) VerifyLicense(_ context.Context, req api.VerifyLicenseRequestObject) (api.VerifyLicenseResponseObject, error) {
	r := h.v.Verify(req.Body.LicenseJwt)
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
