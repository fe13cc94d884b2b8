package oscal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// The official NIST OSCAL 1.2.1 JSON Schemas (testdata/README.md). They are draft-07 and
// their patterns are XML-Schema flavoured (\p{L}, \p{N}, \S); Go's regexp package, the
// validator's default engine, reads those classes as Unicode classes, which is what the
// XML Schema meaning is (TestSchemaPatternsAreUnicode proves it), so the patterns are used
// as published. Formats (date-time, uri, uri-reference) are asserted too.
var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	for root, file := range map[string]string{
		"assessment-results": "oscal_assessment-results_schema.json",
		"assessment-plan":    "oscal_assessment-plan_schema.json",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
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

// validate checks an OSCAL JSON document against the schema of its root property and
// returns the validation error, if any.
func validate(t testing.TB, doc []byte) error {
	t.Helper()
	all, err := schemas()
	require.NoError(t, err)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc, &top))
	require.Len(t, top, 1, "one root property")
	var root string
	for k := range top {
		root = k
	}
	s, ok := all[root]
	require.True(t, ok, "root %q", root)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err)
	return s.Validate(inst)
}

// requireValid fails the test unless doc is a valid OSCAL document.
func requireValid(t testing.TB, doc []byte) {
	t.Helper()
	require.NoError(t, validate(t, doc))
}
