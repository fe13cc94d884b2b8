package app

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/openwatch/openwatch/internal/authz"
)

// LoadSpec parses and validates the API document and builds its operation table. It fails,
// naming the operation, when an operation has neither a permission nor the anonymous
// marker or names a permission outside the catalogue: the server must not start then.
func LoadSpec(data []byte) (*openapi3.T, authz.Operations, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("load api spec: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("validate api spec: %w", err)
	}
	ops, err := authz.LoadOperations(doc)
	if err != nil {
		return nil, nil, err
	}
	return doc, ops, nil
}
