package license

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// TestFeaturesGateOperations: the license-gated operations come from the spec
// (x-license-feature, read into the operation table); every feature they name is one this
// package knows, every known feature gates at least one operation, and every feature a
// tier grants or the permission catalogue names is known.
func TestFeaturesGateOperations(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecJSON)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	ops, err := authz.LoadOperations(doc)
	require.NoError(t, err)
	known := Features()
	gates := map[Feature][]string{}
	for id, op := range ops {
		if op.Feature == "" {
			continue
		}
		require.Contains(t, known, Feature(op.Feature), "%s needs an unknown license feature", id)
		gates[Feature(op.Feature)] = append(gates[Feature(op.Feature)], id)
	}
	for _, f := range known {
		require.NotEmpty(t, gates[f], "license feature %s gates no operation of the spec", f)
	}
	for _, tier := range []Tier{TierFree, TierPlus, TierEnterprise} {
		for _, f := range tier.Features() {
			require.Contains(t, known, f, "tier %s", tier)
		}
	}
}
