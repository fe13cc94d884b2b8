package oscal_test

import (
	"testing"

	"github.com/openwatch/openwatch/internal/oscal/oscaltest"
)

// validate checks an OSCAL JSON document against the official NIST OSCAL 1.2.1 JSON Schema
// of its root property (testdata/README.md; oscaltest explains how the schemas are read)
// and returns the validation error, if any.
func validate(t testing.TB, doc []byte) error {
	t.Helper()
	return oscaltest.Validate(doc)
}

// requireValid fails the test unless doc is a valid OSCAL document.
func requireValid(t testing.TB, doc []byte) {
	t.Helper()
	oscaltest.RequireValid(t, doc)
}
