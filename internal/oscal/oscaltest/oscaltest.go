// Package oscaltest validates OSCAL documents against the official NIST OSCAL 1.2.1 JSON
// Schemas kept in internal/oscal/testdata, for the tests of any package that writes OSCAL.
//
// The schemas are draft-07 and their patterns are XML-Schema flavoured (\p{L}, \p{N}, \S);
// Go's regexp package, the validator's default engine, reads those classes as Unicode
// classes, which is what the XML Schema meaning is, so the patterns are used as published.
// Formats (date-time, uri, uri-reference) are asserted too.
package oscaltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// dir is internal/oscal/testdata, found from this file's place in the source tree (tests
// always run from a source tree).
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	for root, file := range map[string]string{
		"assessment-results": "oscal_assessment-results_schema.json",
		"assessment-plan":    "oscal_assessment-plan_schema.json",
	} {
		b, err := os.ReadFile(filepath.Join(dir(), file))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(file, doc); err != nil {
			return nil, err
		}
		s, err := c.Compile(file)
		if err != nil {
			return nil, err
		}
		out[root] = s
	}
	return out, nil
})

// Validate checks an OSCAL JSON document (an assessment-results or assessment-plan) against
// the schema of its root property and returns the validation error, if any.
func Validate(doc []byte) error {
	all, err := schemas()
	if err != nil {
		return fmt.Errorf("load oscal schemas: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return fmt.Errorf("decode oscal document: %w", err)
	}
	if len(top) != 1 {
		return fmt.Errorf("an oscal document has one root property, not %d", len(top))
	}
	var root string
	for k := range top {
		root = k
	}
	s, ok := all[root]
	if !ok {
		return fmt.Errorf("no schema for the root %q", root)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("decode oscal document: %w", err)
	}
	return s.Validate(inst)
}

// RequireValid fails the test unless doc is a valid OSCAL document.
func RequireValid(t testing.TB, doc []byte) {
	t.Helper()
	require.NoError(t, Validate(doc))
}
