package vuln_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// osvRange is one range of a generated record.
type osvRange struct {
	Introduced   string
	Fixed        string
	LastAffected string
}

// osvSpec describes a generated OSV record.
type osvSpec struct {
	ID        string
	Ecosystem string
	Package   string
	Modified  time.Time
	Withdrawn bool
	Ranges    []osvRange
	Versions  []string
	Severity  string // a Debian urgency, "" for none
	CVSS      string // a CVSS v3 vector, "" for none
	Aliases   []string
}

// record writes the OSV JSON of s (schema 1.6 fields only).
func (s osvSpec) record() map[string]any {
	var ranges []any
	for _, r := range s.Ranges {
		events := []any{map[string]any{"introduced": r.Introduced}}
		if r.Fixed != "" {
			events = append(events, map[string]any{"fixed": r.Fixed})
		}
		if r.LastAffected != "" {
			events = append(events, map[string]any{"last_affected": r.LastAffected})
		}
		ranges = append(ranges, map[string]any{"type": "ECOSYSTEM", "events": events})
	}
	affected := map[string]any{"package": map[string]any{"ecosystem": s.Ecosystem, "name": s.Package}}
	if len(ranges) > 0 {
		affected["ranges"] = ranges
	}
	if len(s.Versions) > 0 {
		affected["versions"] = s.Versions
	}
	if s.Severity != "" {
		affected["ecosystem_specific"] = map[string]any{"urgency": s.Severity}
	}
	rec := map[string]any{
		"schema_version": "1.6.0",
		"id":             s.ID,
		"modified":       s.Modified.UTC().Format(time.RFC3339),
		"published":      s.Modified.Add(-24 * time.Hour).UTC().Format(time.RFC3339),
		"summary":        s.Package + ": test advisory " + s.ID,
		"details":        "Written by the test suite.",
		"affected":       []any{affected},
	}
	if len(s.Aliases) > 0 {
		rec["aliases"] = s.Aliases
	}
	if s.Withdrawn {
		rec["withdrawn"] = s.Modified.UTC().Format(time.RFC3339)
	}
	if s.CVSS != "" {
		rec["severity"] = []any{map[string]any{"type": "CVSS_V3", "score": s.CVSS}}
	}
	return rec
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// osvSchema compiles the OSV JSON Schema of testdata (the upstream validation schema).
func osvSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(filepath.Join("testdata", "osv-schema.json"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("osv-schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("osv-schema.json")
	})
	require.NoError(t, schemaErr)
	return schema
}

// validRecord encodes rec and checks it against the OSV schema.
func validRecord(t testing.TB, rec map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(rec, "", "  ")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	require.NoError(t, osvSchema(t).Validate(inst), "record %s must follow the OSV schema", rec["id"])
	return b
}

// writeZip writes files (name → content) into a zip at path.
func writeZip(t testing.TB, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, b := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}

func jsonschemaUnmarshal(b []byte) (any, error) { return jsonschema.UnmarshalJSON(bytes.NewReader(b)) }
