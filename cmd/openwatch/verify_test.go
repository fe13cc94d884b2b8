package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/report"
)

// TestVerifyReport runs `openwatch verify-report` on exports of each format: valid with and
// without --key (then saying the key is not yet trusted), invalid (exit 1, saying why)
// after a one-byte change or with a key that is not the signer's.
func TestVerifyReport(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(report.PublicKeyPEM(pub)), 0o600))
	otherFile := filepath.Join(dir, "other.pem")
	require.NoError(t, os.WriteFile(otherFile, []byte(report.PublicKeyPEM(other)), 0o600))
	n := int64(3)
	doc := report.Document{Format: report.FormatVersion, ID: "01900000-0000-7000-8000-0000000000aa", Kind: report.KindAudit,
		Title: "Audit trail report", GeneratedAt: "2026-12-01T10:00:00Z", GeneratedBy: report.Actor{ID: "user:1", Name: "alice"},
		OpenWatchVersion: "test", Scope: report.ScopeDoc{Type: "fleet"}, AuditChainHead: report.ChainHead{Seq: 7, Hash: "abcd"},
		Summary: report.Summary{Events: &n},
		Audit: &report.AuditTrail{Since: "2026-11-01T00:00:00Z", Until: "2026-12-01T00:00:00Z", Events: []report.AuditEventDoc{},
			Verification: report.Verification{OK: true, Checked: 7}}}
	content, err := report.Canonical(doc)
	require.NoError(t, err)
	for _, format := range []string{"json", "csv", "pdf"} {
		file, err := report.Export(content, format, report.NewSigner(priv))
		require.NoError(t, err)
		path := filepath.Join(dir, "report."+format)
		require.NoError(t, os.WriteFile(path, file, 0o600))

		r := runWith(t, nil, "", nil, "verify-report", path, "--key", keyFile)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "report: "+doc.ID)
		require.Contains(t, r.stdout, "kind: audit")
		require.Contains(t, r.stdout, "audit chain head: seq 7, hash abcd")
		require.Contains(t, r.stdout, "signing key id: "+report.KeyID(pub))
		require.Contains(t, r.stdout, "key: trusted")

		r = runWith(t, nil, "", nil, "verify-report", path)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "NOT YET TRUSTED")

		r = runWith(t, nil, "", nil, "verify-report", "--key", otherFile, path)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "not one of the trusted keys")

		bad := append([]byte(nil), file...)
		bad[len(bad)/2] ^= 0x04
		require.NoError(t, os.WriteFile(path, bad, 0o600))
		r = runWith(t, nil, "", nil, "verify-report", path)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "INVALID")
	}
}
