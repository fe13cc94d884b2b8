package license

import "slices"

// Tier is a license tier.
type Tier string

// The license tiers.
const (
	TierFree       Tier = "free"
	TierPlus       Tier = "openwatch_plus"
	TierEnterprise Tier = "enterprise"
)

// Valid reports whether t is one of the known tiers.
func (t Tier) Valid() bool {
	switch t {
	case TierFree, TierPlus, TierEnterprise:
		return true
	}
	return false
}

// Features returns the features the tier grants by itself, sorted. The free tier grants
// none; enterprise grants everything plus does and any enterprise-only feature.
func (t Tier) Features() []Feature {
	switch t {
	case TierPlus:
		return []Feature{FeatureAuditExport}
	case TierEnterprise:
		return TierPlus.Features()
	}
	return nil
}

// Feature is a capability a license may grant.
type Feature string

// The features.
const (
	// FeatureAuditExport allows exporting the audit log.
	FeatureAuditExport Feature = "audit_export"
)

// Features lists every feature OpenWatch knows, sorted. The operations a feature gates are
// the ones the API spec marks with x-license-feature; a test keeps the two in step.
func Features() []Feature {
	return []Feature{FeatureAuditExport}
}

// effectiveFeatures returns the tier's features and the extras, sorted and without
// duplicates; never nil.
func effectiveFeatures(t Tier, extra []Feature) []Feature {
	fs := append(t.Features(), extra...)
	slices.Sort(fs)
	fs = slices.Compact(fs)
	if fs == nil {
		fs = []Feature{}
	}
	return fs
}

// Status says whether a license is in force.
type Status string

// The statuses. Only active and grace grant a license's features.
const (
	StatusActive    Status = "active"
	StatusGrace     Status = "grace"
	StatusExpired   Status = "expired"
	StatusNoLicense Status = "no_license"
	StatusInvalid   Status = "invalid"
)
