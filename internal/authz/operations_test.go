package authz_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

func loadDoc(t *testing.T) *openapi3.T {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecJSON)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

// TestEveryOperationIsGuarded walks every operation of the embedded spec.
func TestEveryOperationIsGuarded(t *testing.T) {
	ops, err := authz.LoadOperations(loadDoc(t))
	require.NoError(t, err)
	require.NotEmpty(t, ops)
	for id, op := range ops {
		if op.Anonymous {
			require.Empty(t, op.Permission, id)
			continue
		}
		require.True(t, authz.IsPermission(op.Permission), "%s requires %q", id, op.Permission)
	}
}

// TestEveryPermissionIsRequired: the catalogue holds no permission that no operation uses.
func TestEveryPermissionIsRequired(t *testing.T) {
	ops, err := authz.LoadOperations(loadDoc(t))
	require.NoError(t, err)
	used := map[string]bool{}
	for _, op := range ops {
		used[op.Permission] = true
	}
	for _, p := range authz.Permissions() {
		require.True(t, used[p.ID], "permission %s is required by no operation", p.ID)
	}
}

func TestLoadOperationsRejects(t *testing.T) {
	cases := map[string]func(op *openapi3.Operation){
		"neither marker": func(op *openapi3.Operation) {
			delete(op.Extensions, authz.ExtRequiredPermission)
		},
		"unknown permission": func(op *openapi3.Operation) {
			op.Extensions[authz.ExtRequiredPermission] = "host:teleport"
		},
		"both markers": func(op *openapi3.Operation) {
			op.Extensions[authz.ExtAnonymous] = true
		},
		"bad idempotency": func(op *openapi3.Operation) {
			op.Extensions[authz.ExtIdempotency] = "sometimes"
		},
		"license feature on an ungated permission": func(op *openapi3.Operation) {
			op.Extensions[authz.ExtLicenseFeature] = "audit_export"
		},
		"zero body limit":       func(op *openapi3.Operation) { op.Extensions[authz.ExtBodyLimit] = float64(0) },
		"fractional body limit": func(op *openapi3.Operation) { op.Extensions[authz.ExtBodyLimit] = 1.5 },
		"text body limit":       func(op *openapi3.Operation) { op.Extensions[authz.ExtBodyLimit] = "64KiB" },
	}
	for name, mutate := range cases {
		doc := loadDoc(t)
		mutate(doc.Paths.Find("/auth/me").Get)
		_, err := authz.LoadOperations(doc)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), `"getMe"`, name)
	}
	doc := loadDoc(t)
	doc.Paths.Find("/users").Post.Extensions[authz.ExtIdempotency] = "required"
	_, err := authz.LoadOperations(doc)
	require.ErrorContains(t, err, "header is optional")
	doc = loadDoc(t)
	delete(doc.Paths.Find("/users").Post.Extensions, authz.ExtIdempotency)
	_, err = authz.LoadOperations(doc)
	require.ErrorContains(t, err, "without x-idempotency")

	ops, err := authz.LoadOperations(loadDoc(t))
	require.NoError(t, err)
	require.EqualValues(t, 65536, ops["submitEnrollment"].BodyLimit, "x-body-limit is read")
	require.Zero(t, ops["getMe"].BodyLimit)

	doc = loadDoc(t)
	doc.Paths.Find("/health").Get.Security = nil
	_, err = authz.LoadOperations(doc)
	require.ErrorContains(t, err, "does not declare security: []")
}

// TestLicenseGatedOperations: the license-gated operations are the ones the spec marks
// with x-license-feature, and they are exactly the operations requiring a permission the
// catalogue gates: an operation nobody classified, or a spec and catalogue that drift
// apart, stop the server from starting.
func TestLicenseGatedOperations(t *testing.T) {
	ops, err := authz.LoadOperations(loadDoc(t))
	require.NoError(t, err)
	gates := ops.LicenseGates()
	require.Equal(t, map[string]string{authz.PermAuditExport: "audit_export"}, gates)
	features := map[string]string{}
	for id, op := range ops {
		require.Equal(t, gates[op.Permission], op.Feature, "%s requires %s", id, op.Permission)
		if op.Feature != "" {
			features[id] = op.Feature
		}
	}
	require.Equal(t, map[string]string{"exportAuditEvents": "audit_export"}, features)

	// A second operation requiring the gated permission that forgets the extension.
	doc := loadDoc(t)
	export := doc.Paths.Find("/audit/events:export").Get
	twin := *export
	twin.OperationID = "exportAuditEventsAgain"
	twin.Extensions = map[string]any{authz.ExtRequiredPermission: authz.PermAuditExport}
	doc.Paths.Set("/audit/events:export-again", &openapi3.PathItem{Get: &twin})
	_, err = authz.LoadOperations(doc)
	require.ErrorContains(t, err, `the operations requiring audit:export disagree on the license feature: operationId ["exportAuditEvents"] declare x-license-feature "audit_export"; operationId ["exportAuditEventsAgain"] declare x-license-feature ""`)

	// Two operations naming different features for one permission.
	twin.Extensions[authz.ExtLicenseFeature] = "audit_stream"
	_, err = authz.LoadOperations(doc)
	require.ErrorContains(t, err, `operationId ["exportAuditEventsAgain"] declare x-license-feature "audit_stream"`)
}

func TestRoles(t *testing.T) {
	admin := authz.RolePermissions(authz.RoleAdmin)
	for _, p := range authz.Permissions() {
		require.True(t, admin.Has(p.ID), "admin holds %s", p.ID)
	}
	for _, r := range authz.BuiltInRoles() {
		require.True(t, authz.RolePermissions(r.ID).Has(authz.PermAccountSelf), "%s can see itself", r.ID)
		for _, p := range r.Permissions {
			require.True(t, authz.IsPermission(p), "%s grants catalogued %s", r.ID, p)
		}
	}
	require.False(t, authz.RolePermissions(authz.RoleViewer).Has(authz.PermUserWrite))
	require.Nil(t, authz.RolePermissions("nobody"))
}

// TestGuardStatusesAreDeclared: the statuses the request pipeline itself can answer are in
// every operation's responses (the response validator accepts any status through
// `default`, so only this test keeps them declared): 401 and 403 wherever a credential is
// needed, 409 wherever an Idempotency-Key is honoured, 402 wherever a license feature is,
// and 400 everywhere (a query string that is not valid percent-encoding).
func TestGuardStatusesAreDeclared(t *testing.T) {
	doc := loadDoc(t)
	ops, err := authz.LoadOperations(doc)
	require.NoError(t, err)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			guard := ops[op.OperationID]
			want := []string{"400"}
			if !guard.Anonymous {
				want = append(want, "401", "403")
			}
			if guard.Idempotency != "" {
				want = append(want, "409")
			}
			if guard.Feature != "" {
				want = append(want, "402")
			}
			for _, status := range want {
				require.NotNil(t, op.Responses.Value(status), "%s %s (%s) does not declare %s", method, path, op.OperationID, status)
			}
		}
	}
}
