package report_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/report"
)

// procedures returns the shell procedures of docs/reports.md by format.
func procedures(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "reports.md"))
	require.NoError(t, err)
	re := regexp.MustCompile("(?s)<!-- procedure: (\\w+) -->\n```sh\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		out[m[1]] = m[2]
	}
	require.Len(t, out, 3, "docs/reports.md documents the csv, pdf and json procedures")
	return out
}

// sampleDocument is a compliance report with a formula in a reason.
func sampleDocument() report.Document {
	pass := int64(1)
	return report.Document{Format: report.FormatVersion, ID: "01900000-0000-7000-8000-000000000001", Kind: report.KindCompliance,
		Title: "Compliance report", GeneratedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Format(time.RFC3339Nano),
		GeneratedBy: report.Actor{ID: "user:1", Name: "alice"}, OpenWatchVersion: "test", Scope: report.ScopeDoc{Type: "fleet"},
		AuditChainHead: report.ChainHead{Seq: 42, Hash: "00ff"},
		Summary:        report.Summary{Hosts: &pass, Results: &report.Counts{Pass: 1, Fail: 1}, FailingBySeverity: map[string]int64{"high": 1}},
		Compliance: &report.Compliance{Framework: "all", Exceptions: []report.ExceptionDoc{}, Trend: []report.TrendPoint{},
			Hosts: []report.HostSection{{HostID: "h1", Hostname: "web-1", Environment: "prod", Results: []report.ResultDoc{
				{RuleID: "r1", Title: "Rule one", Severity: "high", Status: "fail", Reason: "@SUM(A1)", ScanID: "s1", Evidence: "/x", ChangedAt: "2026-12-01T09:00:00Z"},
				{RuleID: "r2", Title: "+Rule two", Severity: "low", Status: "pass", ScanID: "s1", Evidence: "/y", ChangedAt: "2026-12-01T09:00:00Z"},
			}}}}}
}

// TestDocumentedProcedure runs the commands of docs/reports.md with sh -c on an export of
// each format: openssl accepts the file as exported and refuses it after a one-byte change.
func TestDocumentedProcedure(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("openssl")
	require.NoError(t, err, "openssl is needed (Debian package openssl)")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sg := report.NewSigner(priv)
	content, err := report.Canonical(sampleDocument())
	require.NoError(t, err)
	for format, script := range procedures(t) {
		file, err := report.Export(content, format, sg)
		require.NoError(t, err)
		_, err = report.Verify(file, []report.PublicKey{pub})
		require.NoError(t, err)
		for _, tampered := range []bool{false, true} {
			dir := t.TempDir()
			data := append([]byte(nil), file...)
			if tampered {
				data[len(data)/2] ^= 0x01
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "report."+format), data, 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), []byte(report.PublicKeyPEM(pub)), 0o600))
			cmd := exec.Command("sh", "-ec", script)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if tampered {
				require.Error(t, err, "%s: the documented procedure refuses a changed file: %s", format, out)
			} else {
				require.NoError(t, err, "%s: %s", format, out)
				require.Contains(t, string(out), "Signature Verified Successfully")
			}
		}
	}
}

// TestCSVFormulaSafe: cells a spreadsheet would read as formulas are defused.
func TestCSVFormulaSafe(t *testing.T) {
	t.Parallel()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	content, err := report.Canonical(sampleDocument())
	require.NoError(t, err)
	file, err := report.Export(content, report.FormatCSV, report.NewSigner(priv))
	require.NoError(t, err)
	require.Contains(t, string(file), ",'@SUM(A1),")
	require.Contains(t, string(file), ",'+Rule two,")
	require.NotContains(t, string(file), ",@SUM")
	require.NotContains(t, string(file), ",+Rule")
}

// TestCSVKeyIDWithDash: a key id is base64url, so it may start with "-"; the CSV metadata
// cell defuses it like any other cell, and the export still verifies (one key in 64 did
// not). Every export format is checked with such a key.
func TestCSVKeyIDWithDash(t *testing.T) {
	t.Parallel()
	var sg report.Signer
	var pub ed25519.PublicKey
	for sg.KeyID == "" || sg.KeyID[0] != '-' {
		p, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		sg, pub = report.NewSigner(priv), p
	}
	content, err := report.Canonical(sampleDocument())
	require.NoError(t, err)
	for _, format := range []string{report.FormatJSON, report.FormatCSV, report.FormatPDF} {
		file, err := report.Export(content, format, sg)
		require.NoError(t, err)
		v, err := report.Verify(file, []report.PublicKey{pub})
		require.NoError(t, err, format)
		require.Equal(t, sg.KeyID, v.KeyID, format)
	}
}
