package support_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/sso/ssotest"
	"github.com/openwatch/openwatch/internal/support"
)

const marker = "SYSDUMPMARKER9c1e"

// unpack returns the files of a bundle by name (without the top directory) and checks
// every file sits under one directory named like the bundle.
func unpack(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	dir := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		d, name := path.Split(hdr.Name)
		if dir == "" {
			dir = d
		}
		require.Equal(t, dir, d, "one top directory")
		require.True(t, strings.HasPrefix(d, "openwatch-sysdump-"))
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[name] = body
	}
	return out
}

// TestSysdumpHoldsNoSecret plants a marker in every kind of secret the server keeps
// (credential passwords and keys, API tokens, a TOTP seed, a notification channel's
// secret, an SSO client secret, the database password in the configuration), downloads
// the support bundle and searches every file of it for the marker, the secrets minted
// by the server and the bytes of the sealing and signing keys: there must be no hit.
func TestSysdumpHoldsNoSecret(t *testing.T) {
	t.Parallel()
	op, err := ssotest.Start(ssotest.Options{ClientID: "openwatch", ClientSecret: "sso-" + marker,
		Users: []ssotest.User{{Subject: "s", Username: "u", Password: "p", Email: "u@example.com"}}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, op.Close()) })
	ring := logging.NewRing(100)
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "openwatch_test_total", Help: "A test counter."})
	reg.MustRegister(counter)
	counter.Add(3)
	env := apitest.New(t, func(d *app.Deps) {
		d.Logs, d.MetricsGatherer = ring, reg
		// The pool is already open: the DSN is only rendered, and must be redacted.
		d.Config.Database.DSN = "postgres://openwatch:dsn-" + marker + "@db.internal:5432/openwatch?sslmode=require"
		d.Config.Server.PublicURL = "https://openwatch.example.com"
	})
	_, _ = ring.Write([]byte(`{"msg":"a line the server logged"}` + "\n"))
	admin := env.Admin()
	do := func(method, p string, body any, want int) *apitest.Response {
		t.Helper()
		res := env.Do(apitest.Request{Method: method, Path: p, Token: admin.AccessToken, JSON: body})
		require.Equal(t, want, res.Status, "%s %s: %s", method, p, res.Body)
		return res
	}
	var minted []string

	do(http.MethodPost, "credentials", map[string]any{"scope": "system", "name": "fleet", "username": "ops",
		"auth_method": "password", "password": "pw-" + marker, "is_default": true}, http.StatusCreated)
	do(http.MethodPost, "notifications/channels", map[string]any{"name": "hook", "type": "webhook", "secret": "hook-" + marker,
		"config": map[string]any{"url": "http://127.0.0.1:9/hook"}}, http.StatusCreated)
	do(http.MethodPost, "sso/providers", map[string]any{"name": "corp", "issuer": op.Issuer, "client_id": op.ClientID,
		"client_secret": op.ClientSecret, "role_mappings": []map[string]string{{"group": "ops", "role": authz.RoleViewer}}}, http.StatusCreated)
	var sa api.ServiceAccount
	do(http.MethodPost, "service-accounts", map[string]any{"name": "robot", "description": "automation", "role": "viewer"}, http.StatusCreated).Decode(t, &sa)
	var tok map[string]any
	do(http.MethodPost, "service-accounts/"+sa.Id.String()+"/tokens", map[string]any{"name": "ci"}, http.StatusCreated).Decode(t, &tok)
	for _, v := range tok {
		if s, ok := v.(string); ok && len(s) > 20 {
			minted = append(minted, s)
		}
	}
	var enrol api.AuthMFAEnrollResponse
	do(http.MethodPost, "auth/mfa:enroll", nil, http.StatusOK).Decode(t, &enrol)
	minted = append(minted, enrol.Secret, admin.AccessToken)
	require.NotEmpty(t, enrol.Secret)

	res := do(http.MethodPost, "support/sysdump", nil, http.StatusOK)
	require.Equal(t, "application/gzip", res.Header.Get("Content-Type"))
	require.Regexp(t, `^attachment; filename="openwatch-sysdump-\d{8}T\d{6}Z\.tar\.gz"$`, res.Header.Get("Content-Disposition"))
	files := unpack(t, res.Body)

	// The manifest lists every other file with its size and digest.
	var m support.Manifest
	require.NoError(t, json.Unmarshal(files[support.ManifestName], &m))
	require.Len(t, m.Files, len(files)-1)
	for _, f := range m.Files {
		body, ok := files[f.Name]
		require.True(t, ok, f.Name)
		sum := sha256.Sum256(body)
		require.Equal(t, hex.EncodeToString(sum[:]), f.SHA256, f.Name)
		require.Equal(t, len(body), f.Size, f.Name)
	}
	for _, name := range []string{"config.toml", "version.json", "runtime.json", "migrations.txt", "metrics.prom", "logs.jsonl",
		"tables.json", "queue.json", "hosts.json", "liveness.json", "scans.json"} {
		require.Contains(t, files, name)
		require.NotEmpty(t, files[name], name)
	}
	require.Contains(t, string(files["metrics.prom"]), "openwatch_test_total 3")
	require.Contains(t, string(files["logs.jsonl"]), "a line the server logged")
	require.Contains(t, string(files["migrations.txt"]), "00042_retention.sql")
	require.Contains(t, string(files["config.toml"]), "db.internal", "the DSN is there, its password is not")
	var tables []support.TableSize
	require.NoError(t, json.Unmarshal(files["tables.json"], &tables))
	names := map[string]bool{}
	for _, tb := range tables {
		names[tb.Table] = true
	}
	require.True(t, names["hosts"] && names["audit_events"] && names["river_job"], "%v", names)

	// No secret anywhere: not the marker, not what the server minted, not the keys.
	forbidden := append([]string{marker}, minted...)
	keyFile, err := os.ReadFile(env.App.Config.SecretsKeyPath())
	require.NoError(t, err)
	var kf struct {
		Keys map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(keyFile, &kf))
	require.NotEmpty(t, kf.Keys)
	for _, k := range kf.Keys {
		raw, err := base64.StdEncoding.DecodeString(k)
		require.NoError(t, err)
		forbidden = append(forbidden, k, hex.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw))
	}
	jwk, err := os.ReadFile(env.App.Config.SigningKeyPath())
	require.NoError(t, err)
	var signing map[string]any
	require.NoError(t, json.Unmarshal(jwk, &signing))
	if d, ok := signing["d"].(string); ok {
		forbidden = append(forbidden, d)
	}
	for name, body := range files {
		for _, f := range forbidden {
			require.NotContains(t, string(body), f, "file %s leaks a secret", name)
			if len(f) >= 8 {
				raw := []byte(f)
				require.False(t, bytes.Contains(body, raw), name)
			}
		}
		if k := kfRaw(t, kf.Keys); k != nil {
			require.False(t, bytes.Contains(body, k), "file %s holds a sealing key's bytes", name)
		}
	}

	// The download is audited.
	var page api.AuditEventsPage
	do(http.MethodGet, "audit/events?action=support.sysdump_created", nil, http.StatusOK).Decode(t, &page)
	require.Len(t, page.Items, 1)
}

// kfRaw returns the raw bytes of the first key of a key file.
func kfRaw(t *testing.T, keys map[string]string) []byte {
	for _, k := range keys {
		raw, err := base64.StdEncoding.DecodeString(k)
		require.NoError(t, err)
		return raw
	}
	return nil
}

// TestSysdumpIsAdminOnly: a security admin, who holds almost everything, cannot download it.
func TestSysdumpIsAdminOnly(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("sec", authz.RoleSecurityAdmin)
	s := env.Login("sec", pw)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "support/sysdump", Token: s.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Equal(t, "support:sysdump", res.Err(t).Error.Detail["required_permission"])
}

// TestSysdumpWithoutMetricsOrLogs: a process without a metrics registry or a log ring
// says so in note files instead of failing.
func TestSysdumpWithoutMetricsOrLogs(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	b, err := env.App.Support.Build(t.Context())
	require.NoError(t, err)
	files := unpack(t, b.Data)
	require.Contains(t, files, "metrics.NOTE.txt")
	require.Contains(t, files, "logs.NOTE.txt")
	require.NotContains(t, files, "metrics.prom")
}
