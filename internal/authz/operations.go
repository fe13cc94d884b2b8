package authz

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The vendor extensions the operation table reads.
const (
	ExtRequiredPermission = "x-required-permission"
	ExtAnonymous          = "x-anonymous"
	ExtIdempotency        = "x-idempotency"
	ExtLicenseFeature     = "x-license-feature"
)

// Idempotency says how an operation treats the Idempotency-Key header.
type Idempotency string

// The idempotency modes.
const (
	IdempotencyNone     Idempotency = ""
	IdempotencyOptional Idempotency = "optional"
	IdempotencyRequired Idempotency = "required"
)

// Operation is what the request pipeline needs to know about one API operation.
type Operation struct {
	ID          string
	Method      string
	Path        string // as written in the spec, e.g. /users/{id}
	Permission  string // empty for anonymous operations
	Anonymous   bool
	Idempotency Idempotency
	// Feature is the license feature the operation needs (x-license-feature), or "".
	Feature string
	// Spec is the operation in the document, for request validation.
	Spec *openapi3.Operation
	// PathItem is the path the operation belongs to.
	PathItem *openapi3.PathItem
	// NeedsValidation is false when the operation has no parameters and no body, so
	// there is nothing to validate.
	NeedsValidation bool
}

// Operations maps operationId to Operation.
type Operations map[string]*Operation

// LoadOperations builds the operation table from the document. It fails, naming every
// offending operation, when one has neither a permission nor the anonymous marker, names a
// permission missing from the catalogue, is marked anonymous without `security: []`,
// declares an unknown idempotency mode, or disagrees with the catalogue about the license
// feature it needs: an operation requiring a license-gated permission must declare that
// feature in x-license-feature, and only such an operation may declare one.
func LoadOperations(doc *openapi3.T) (Operations, error) {
	ops := Operations{}
	var problems []string
	gated := map[string]string{} // permission → the license feature the catalogue gates it behind
	for _, p := range Permissions() {
		gated[p.ID] = p.LicenseGated
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := fmt.Sprintf("%s %s (operationId %q)", method, path, op.OperationID)
			o := &Operation{ID: op.OperationID, Method: method, Path: path, Spec: op, PathItem: item}
			perm, hasPerm := op.Extensions[ExtRequiredPermission]
			anon, _ := op.Extensions[ExtAnonymous].(bool)
			switch {
			case hasPerm && anon:
				problems = append(problems, where+" is both anonymous and requires a permission")
			case hasPerm:
				s, ok := perm.(string)
				switch {
				case !ok || s == "":
					problems = append(problems, where+" has an empty or non-string "+ExtRequiredPermission)
				case !IsPermission(s):
					problems = append(problems, fmt.Sprintf("%s requires permission %q, which is not in the permission catalogue", where, s))
				}
				o.Permission = s
			case anon:
				if op.Security == nil || len(*op.Security) != 0 {
					problems = append(problems, where+" is marked "+ExtAnonymous+" but does not declare security: []")
				}
				o.Anonymous = true
			default:
				problems = append(problems, where+" has neither "+ExtRequiredPermission+" nor the anonymous marker ("+ExtAnonymous+": true with security: [])")
			}
			if v, ok := op.Extensions[ExtIdempotency]; ok {
				s, _ := v.(string)
				switch Idempotency(s) {
				case IdempotencyOptional, IdempotencyRequired:
					o.Idempotency = Idempotency(s)
				default:
					problems = append(problems, fmt.Sprintf("%s has unknown %s %v (want optional or required)", where, ExtIdempotency, v))
				}
			}
			if v, ok := op.Extensions[ExtLicenseFeature]; ok {
				f, _ := v.(string)
				if f == "" || o.Anonymous {
					problems = append(problems, where+" has an empty "+ExtLicenseFeature+" or is anonymous")
				}
				o.Feature = f
			}
			if want := gated[o.Permission]; o.Feature != want {
				switch {
				case o.Feature == "":
					problems = append(problems, fmt.Sprintf("%s requires %s, which the license feature %q gates, but does not declare %s", where, o.Permission, want, ExtLicenseFeature))
				case want == "":
					problems = append(problems, fmt.Sprintf("%s declares %s %q but requires %s, which no license feature gates in the permission catalogue", where, ExtLicenseFeature, o.Feature, o.Permission))
				default:
					problems = append(problems, fmt.Sprintf("%s declares %s %q but its permission %s is gated by %q", where, ExtLicenseFeature, o.Feature, o.Permission, want))
				}
			}
			if msg := checkIdempotencyHeader(op, o.Idempotency); msg != "" {
				problems = append(problems, where+" "+msg)
			}
			o.NeedsValidation = op.RequestBody != nil || len(op.Parameters) > 0 || len(item.Parameters) > 0
			if _, dup := ops[o.ID]; dup {
				problems = append(problems, where+" reuses an operationId")
			}
			ops[o.ID] = o
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New("api spec: " + strings.Join(problems, "; "))
	}
	return ops, nil
}

// IdempotencyHeader is the request header named by x-idempotency.
const IdempotencyHeader = "Idempotency-Key"

// checkIdempotencyHeader keeps x-idempotency and the declared header in step, so the spec
// tells clients the truth: the header is declared exactly when the operation honours it,
// and required exactly when the mode is required.
func checkIdempotencyHeader(op *openapi3.Operation, mode Idempotency) string {
	var param *openapi3.Parameter
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, IdempotencyHeader) {
			param = p.Value
		}
	}
	switch {
	case mode == IdempotencyNone && param != nil:
		return "declares the " + IdempotencyHeader + " header without " + ExtIdempotency
	case mode != IdempotencyNone && param == nil:
		return "has " + ExtIdempotency + " but does not declare the " + IdempotencyHeader + " header"
	case mode == IdempotencyRequired && !param.Required:
		return "has " + ExtIdempotency + ": required but the " + IdempotencyHeader + " header is optional"
	case mode == IdempotencyOptional && param.Required:
		return "has " + ExtIdempotency + ": optional but the " + IdempotencyHeader + " header is required"
	}
	return ""
}
