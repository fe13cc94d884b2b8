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
	ExtBodyLimit          = "x-body-limit"
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
	// BodyLimit, when above 0, is the largest request body the operation accepts, in bytes
	// (x-body-limit), below the server-wide limit.
	BodyLimit int64
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
// declares an unknown idempotency mode, or disagrees with another operation requiring the
// same permission about the license feature (x-license-feature) it needs: a permission is
// license-gated exactly when the spec says so, for all of its operations (LicenseGates).
func LoadOperations(doc *openapi3.T) (Operations, error) {
	ops := Operations{}
	var problems []string
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
			if v, ok := op.Extensions[ExtBodyLimit]; ok {
				n, _ := v.(float64)
				if n < 1 || n != float64(int64(n)) {
					problems = append(problems, fmt.Sprintf("%s has %s %v (want a positive number of bytes)", where, ExtBodyLimit, v))
				}
				o.BodyLimit = int64(n)
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
	problems = append(problems, ops.gateProblems()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New("api spec: " + strings.Join(problems, "; "))
	}
	return ops, nil
}

// LicenseGates returns, for each license-gated permission, the license feature its
// operations need, as the spec declares it (x-license-feature).
func (o Operations) LicenseGates() map[string]string {
	gates := map[string]string{}
	for _, op := range o {
		if op.Feature != "" && op.Permission != "" {
			gates[op.Permission] = op.Feature
		}
	}
	return gates
}

// gateProblems names the permissions whose operations disagree on the license feature
// they need.
func (o Operations) gateProblems() []string {
	byPerm := map[string]map[string][]string{} // permission → feature → operation ids
	for _, op := range o {
		if op.Permission == "" {
			continue
		}
		if byPerm[op.Permission] == nil {
			byPerm[op.Permission] = map[string][]string{}
		}
		byPerm[op.Permission][op.Feature] = append(byPerm[op.Permission][op.Feature], op.ID)
	}
	var problems []string
	for perm, features := range byPerm {
		if len(features) < 2 {
			continue
		}
		var parts []string
		for f, ids := range features {
			sort.Strings(ids)
			parts = append(parts, fmt.Sprintf("operationId %q declare %s %q", ids, ExtLicenseFeature, f))
		}
		sort.Strings(parts)
		problems = append(problems, fmt.Sprintf("the operations requiring %s disagree on the license feature: %s", perm, strings.Join(parts, "; ")))
	}
	return problems
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
