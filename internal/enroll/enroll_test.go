package enroll_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/sshca"
)

func call(env *apitest.Env, s apitest.Session, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

func anon(env *apitest.Env, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, JSON: body})
}

func hostKey(t *testing.T, kind string) string {
	t.Helper()
	var raw any
	var err error
	switch kind {
	case "ed25519":
		raw, _, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		raw = &k.PublicKey
	case "rsa":
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, 2048)
		raw = &k.PublicKey
	}
	require.NoError(t, err)
	pub, err := ssh.NewPublicKey(raw)
	require.NoError(t, err)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func createToken(t *testing.T, env *apitest.Env, admin apitest.Session, body map[string]any) api.EnrollmentTokenCreated {
	t.Helper()
	res := call(env, admin, http.MethodPost, "admin/enrollment-tokens", body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var out api.EnrollmentTokenCreated
	res.Decode(t, &out)
	return out
}

func submit(env *apitest.Env, token, key, hostname string) *apitest.Response {
	env.T.Helper()
	return anon(env, http.MethodPost, "enroll", map[string]any{"token": token, "host_key": key,
		"facts": map[string]any{"hostname": hostname, "os_id": "debian", "os_version": "12", "addresses": []string{"192.0.2.7"}}})
}

func requireRefused(t *testing.T, res *apitest.Response, status int, reason string) {
	t.Helper()
	require.Equal(t, status, res.Status, "%s", res.Body)
	if reason != "" {
		require.Equal(t, reason, res.Err(t).Error.Detail["reason"], "%s", res.Body)
	}
}

// TestTokensAndRefusals creates, lists and revokes tokens, serves the script, and refuses
// every bad enrollment: unknown, expired, revoked and used-up tokens, a host key of the
// wrong type, malformed facts, an oversized body and a replayed host key; refusals count
// no use.
func TestTokensAndRefusals(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	ctx := context.Background()

	res := call(env, viewer, http.MethodPost, "admin/enrollment-tokens", map[string]any{"name": "x"})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, viewer, http.MethodGet, "admin/enrollments", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	for _, bad := range []map[string]any{
		{"name": ""}, {"name": "x", "max_uses": 0}, {"name": "x", "username": "root"}, {"name": "x", "username": "Bad User"},
		{"name": "x", "expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		{"name": "x", "expires_at": time.Now().Add(100 * 24 * time.Hour).UTC().Format(time.RFC3339)},
		{"name": "x", "group_id": uuid.NewString()}, {"name": "x", "extra": true},
	} {
		res = call(env, admin, http.MethodPost, "admin/enrollment-tokens", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
	}

	tok := createToken(t, env, admin, map[string]any{"name": "rollout", "max_uses": 2, "environment": "prod", "tags": []string{"web"}})
	require.True(t, strings.HasPrefix(tok.Secret, "owe_"))
	require.Equal(t, api.EnrollmentTokenStatus("active"), tok.Token.Status)
	require.Equal(t, "openwatch", tok.Token.Username)
	require.True(t, strings.HasPrefix(tok.Secret, tok.Token.TokenPrefix))
	require.Equal(t, "https://example.com/api/v1/enroll.sh?token="+tok.Secret, tok.ScriptUrl)
	require.Equal(t, "curl -fsS '"+tok.ScriptUrl+"' | sudo sh", tok.Command)
	require.Nil(t, tok.CaCertificate)
	var hashed int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM enrollment_tokens WHERE token_hash = sha256($1::bytea)`, []byte(tok.Secret)).Scan(&hashed))
	require.Equal(t, 1, hashed, "the secret is stored as its SHA-256")

	// The script: served for a live token only.
	res = anon(env, http.MethodGet, "enroll.sh?token="+tok.Secret, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, "text/x-shellscript", res.Header.Get("Content-Type"))
	script := string(res.Body)
	require.Contains(t, script, "OPENWATCH_URL='https://example.com'")
	require.Contains(t, script, "ENROLL_TOKEN='"+tok.Secret+"'")
	userCA, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	require.Contains(t, script, userCA.ReadyLines())
	checkScript(t, script)
	requireRefused(t, anon(env, http.MethodGet, "enroll.sh?token=owe_nope", nil), http.StatusUnauthorized, "unknown")
	requireRefused(t, anon(env, http.MethodGet, "enroll.sh", nil), http.StatusBadRequest, "")

	// Refusals of POST /enroll.
	key := hostKey(t, "ed25519")
	requireRefused(t, submit(env, "owe_nope", key, "web1"), http.StatusUnauthorized, "unknown")
	res = submit(env, tok.Secret, hostKey(t, "rsa"), "web1")
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Contains(t, res.Err(t).Error.HumanMessage, "ssh-rsa")
	require.Equal(t, http.StatusBadRequest, submit(env, tok.Secret, "not a key", "web1").Status)
	require.Equal(t, http.StatusBadRequest, submit(env, tok.Secret, key, "web 1").Status, "a host name with a space")
	res = anon(env, http.MethodPost, "enroll", map[string]any{"token": tok.Secret, "host_key": key, "facts": map[string]any{"hostname": "web1", "colour": "blue"}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = anon(env, http.MethodPost, "enroll", map[string]any{"token": tok.Secret, "host_key": key, "facts": map[string]any{"hostname": "web1", "ssh_address": "nowhere"}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	big := map[string]any{"token": tok.Secret, "host_key": key, "facts": map[string]any{"hostname": "web1", "os_pretty_name": strings.Repeat("x", 70<<10)}}
	res = anon(env, http.MethodPost, "enroll", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
	require.Equal(t, "request.body_too_large", res.Err(t).Error.Code)
	require.EqualValues(t, 65536, res.Err(t).Error.Detail["limit_bytes"])

	res = submit(env, tok.Secret, key, "web1")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var first api.EnrollmentSubmitted
	res.Decode(t, &first)
	require.Equal(t, api.EnrollmentRequestStatus("pending"), first.Status)
	res = submit(env, tok.Secret, key, "web1-again")
	require.Equal(t, http.StatusConflict, res.Status, "a replayed host key: %s", res.Body)
	require.Contains(t, res.Err(t).Error.HumanMessage, "already presented")
	var uses int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT uses FROM enrollment_tokens WHERE id = $1`, tok.Token.Id).Scan(&uses))
	require.Equal(t, 1, uses, "refused requests count no use")
	res = submit(env, tok.Secret, hostKey(t, "ecdsa"), "web2")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	requireRefused(t, submit(env, tok.Secret, hostKey(t, "ed25519"), "web3"), http.StatusUnauthorized, "used_up")
	requireRefused(t, anon(env, http.MethodGet, "enroll.sh?token="+tok.Secret, nil), http.StatusUnauthorized, "used_up")

	expired := createToken(t, env, admin, map[string]any{"name": "old"})
	_, err = env.App.Pool.Exec(ctx, `UPDATE enrollment_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, expired.Token.Id)
	require.NoError(t, err)
	requireRefused(t, submit(env, expired.Secret, hostKey(t, "ed25519"), "web4"), http.StatusUnauthorized, "expired")

	revoked := createToken(t, env, admin, map[string]any{"name": "gone"})
	res = call(env, viewer, http.MethodDelete, "admin/enrollment-tokens/"+revoked.Token.Id.String(), nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodDelete, "admin/enrollment-tokens/"+revoked.Token.Id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodDelete, "admin/enrollment-tokens/"+revoked.Token.Id.String(), nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodDelete, "admin/enrollment-tokens/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	requireRefused(t, submit(env, revoked.Secret, hostKey(t, "ed25519"), "web5"), http.StatusUnauthorized, "revoked")

	var list api.EnrollmentTokenList
	res = call(env, admin, http.MethodGet, "admin/enrollment-tokens?limit=2", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Tokens, 2)
	require.NotNil(t, list.NextCursor)
	require.Equal(t, revoked.Token.Id, list.Tokens[0].Id)
	require.Equal(t, api.EnrollmentTokenStatus("revoked"), list.Tokens[0].Status)
	require.Equal(t, api.EnrollmentTokenStatus("expired"), list.Tokens[1].Status)
	res = call(env, admin, http.MethodGet, "admin/enrollment-tokens?cursor="+*list.NextCursor, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Tokens, 1)
	require.Equal(t, api.EnrollmentTokenStatus("used_up"), list.Tokens[0].Status)
	require.NotContains(t, string(res.Body), tok.Secret, "secrets are never listed")

	// The status of a request reveals nothing but its own state.
	res = anon(env, http.MethodGet, "enroll/status/"+first.PollSecret, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.JSONEq(t, `{"status":"pending"}`, string(res.Body))
	res = anon(env, http.MethodGet, "enroll/status/owp_unknown", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

// checkScript checks the served script's syntax with sh -n, and with shellcheck when it
// is installed.
func checkScript(t *testing.T, script string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "enroll.sh")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o600))
	out, err := exec.Command("sh", "-n", path).CombinedOutput()
	require.NoError(t, err, "sh -n: %s", out)
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		out, err := exec.Command(sc, "-s", "sh", path).CombinedOutput()
		require.NoError(t, err, "shellcheck: %s", out)
	} else {
		t.Log("shellcheck is not installed; checked the script with sh -n only")
	}
}

// TestQueue approves and denies requests through the queue (status filter, paging),
// checks what approval created (host in the token's group, environment and tags, pinned
// host key, host certificate, first system info and scan jobs), what the host's status
// poll answers, auto-approval and the audit events.
func TestQueue(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()

	var group api.HostGroup
	res := call(env, admin, http.MethodPost, "groups", map[string]any{"name": "enrolled"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &group)
	tok := createToken(t, env, admin, map[string]any{"name": "queue", "max_uses": 10, "group_id": group.Id,
		"environment": "staging", "tags": []string{"web", "enrolled"}, "username": "scanner"})

	keyA, keyB := hostKey(t, "ed25519"), hostKey(t, "ecdsa")
	var a, b api.EnrollmentSubmitted
	res = submit(env, tok.Secret, keyA, "alpha")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &a)
	res = submit(env, tok.Secret, keyB, "bravo")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &b)

	var page api.EnrollmentList
	res = call(env, admin, http.MethodGet, "admin/enrollments?status=pending&limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &page)
	require.Len(t, page.Enrollments, 1)
	require.Equal(t, b.Id, page.Enrollments[0].Id, "newest first")
	require.Equal(t, "queue", page.Enrollments[0].TokenName)
	require.Equal(t, "192.0.2.1", page.Enrollments[0].Address, "the request's own address")
	require.Equal(t, 22, page.Enrollments[0].Port)
	require.NotNil(t, page.NextCursor)
	res = call(env, admin, http.MethodGet, "admin/enrollments?status=pending&cursor="+*page.NextCursor, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &page)
	require.Len(t, page.Enrollments, 1)
	require.Equal(t, a.Id, page.Enrollments[0].Id)
	require.Equal(t, "debian", *page.Enrollments[0].Facts.OsId)
	var published int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'enrollment.requested' AND permission = 'enrollment:read' AND data->>'hostname' IN ('alpha', 'bravo')`).Scan(&published))
	require.Equal(t, 2, published, "each request is a live event for those who may read the queue")
	res = call(env, admin, http.MethodGet, "admin/enrollments?status=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	// Approve alpha.
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+uuid.NewString()+":approve", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	var approved api.Enrollment
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+a.Id.String()+":approve", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &approved)
	require.Equal(t, api.EnrollmentRequestStatus("approved"), approved.Status)
	require.NotNil(t, approved.HostId)
	require.NotNil(t, approved.CertificateId)
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+a.Id.String()+":approve", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+a.Id.String()+":deny", map[string]any{"reason": "late"})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)

	var detail api.HostDetailResponse
	res = call(env, admin, http.MethodGet, "hosts/"+approved.HostId.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &detail)
	h := detail.Host
	require.Equal(t, "alpha", h.Hostname)
	require.Equal(t, "staging", h.Environment)
	require.ElementsMatch(t, []string{"web", "enrolled"}, *h.Tags)
	require.Equal(t, group.Id, *h.GroupId)
	var pinned string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT public_key FROM host_ssh_keys WHERE host_id = $1 AND status = 'trusted'`, h.Id).Scan(&pinned))
	require.Equal(t, keyA, pinned, "the presented host key is pinned")
	var method, login string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT auth_method, username FROM ssh_credentials WHERE scope = 'host' AND scope_id = $1 AND deleted_at IS NULL`, h.Id).Scan(&method, &login))
	require.Equal(t, "certificate", method, "the host logs in with short-lived user certificates")
	require.Equal(t, "scanner", login, "as the token's scan account")
	firstJobs := func() (scans, jobs int) {
		t.Helper()
		require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM scans WHERE host_id = $1 AND trigger = 'enrollment'`, h.Id).Scan(&scans))
		require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'intel_system_info' AND args->>'host_id' = $1`, h.Id.String()).Scan(&jobs))
		return scans, jobs
	}
	scans, jobs := firstJobs()
	require.Zero(t, scans+jobs, "nothing runs before the host installed its certificate")

	// The host reads its certificate with its poll secret.
	var st api.EnrollmentStatus
	res = anon(env, http.MethodGet, "enroll/status/"+a.PollSecret, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &st)
	require.Equal(t, api.EnrollmentRequestStatus("approved"), st.Status)
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*st.HostCertificate))
	require.NoError(t, err)
	cert, ok := k.(*ssh.Certificate)
	require.True(t, ok)
	require.Equal(t, uint32(ssh.HostCert), cert.CertType)
	require.Equal(t, []string{"alpha", "192.0.2.1"}, cert.ValidPrincipals)
	require.Equal(t, keyA, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert.Key))))
	hostCA, err := env.App.SSHCA.Get(ctx, sshca.KindHost)
	require.NoError(t, err)
	require.True(t, hostCA.Trusts(cert.SignatureKey))
	require.Equal(t, http.StatusConflict, submit(env, tok.Secret, keyA, "alpha2").Status, "an enrolled host's key is a replay")

	// The host reports the certificate installed: its first system info collection and
	// compliance scan are queued, once.
	res = anon(env, http.MethodPost, "enroll/status/"+b.PollSecret+":installed", nil)
	require.Equal(t, http.StatusConflict, res.Status, "a pending request: %s", res.Body)
	res = anon(env, http.MethodPost, "enroll/status/owp_unknown:installed", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	for range 2 {
		res = anon(env, http.MethodPost, "enroll/status/"+a.PollSecret+":installed", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		scans, jobs = firstJobs()
		require.Equal(t, 1, scans, "a first compliance scan is queued")
		require.Equal(t, 1, jobs, "a first system info collection is queued")
	}
	res = call(env, admin, http.MethodGet, "admin/enrollments?status=approved", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &page)
	require.NotNil(t, page.Enrollments[0].InstalledAt)

	// Deny bravo.
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+b.Id.String()+":deny", map[string]any{"reason": ""})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	var denied api.Enrollment
	res = call(env, admin, http.MethodPost, "admin/enrollments/"+b.Id.String()+":deny", map[string]any{"reason": "unknown machine"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &denied)
	require.Equal(t, api.EnrollmentRequestStatus("denied"), denied.Status)
	require.Nil(t, denied.HostId)
	res = anon(env, http.MethodGet, "enroll/status/"+b.PollSecret, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.JSONEq(t, `{"status":"denied","reason":"unknown machine"}`, string(res.Body))
	res = submit(env, tok.Secret, keyB, "bravo")
	require.Equal(t, http.StatusCreated, res.Status, "a denied key may ask again: %s", res.Body)

	// Auto-approval.
	auto := createToken(t, env, admin, map[string]any{"name": "auto", "auto_approve": true})
	var got api.EnrollmentSubmitted
	res = submit(env, auto.Secret, hostKey(t, "ed25519"), "charlie")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &got)
	require.Equal(t, api.EnrollmentRequestStatus("approved"), got.Status)
	res = call(env, admin, http.MethodGet, "hosts?q=charlie", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), `"hostname":"charlie"`)
	// A second host of the same name in the environment is refused and counts no use.
	res = submit(env, auto.Secret, hostKey(t, "ed25519"), "charlie")
	require.Equal(t, http.StatusUnauthorized, res.Status, "the auto token allowed one use: %s", res.Body)
	auto2 := createToken(t, env, admin, map[string]any{"name": "auto2", "auto_approve": true})
	res = submit(env, auto2.Secret, hostKey(t, "ed25519"), "charlie")
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	var uses int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT uses FROM enrollment_tokens WHERE id = $1`, auto2.Token.Id).Scan(&uses))
	require.Zero(t, uses)

	var actions []string
	rows, err := env.App.Pool.Query(ctx, `SELECT DISTINCT action FROM audit_events WHERE action LIKE 'enrollment.%' ORDER BY action`)
	require.NoError(t, err)
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		actions = append(actions, a)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"enrollment.approved", "enrollment.denied", "enrollment.installed", "enrollment.requested", "enrollment.token_created"}, actions)
	var actor string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT actor_type FROM audit_events WHERE action = 'enrollment.approved' AND detail->>'auto_approved' = 'true'`).Scan(&actor))
	require.Equal(t, "anonymous", actor, "auto-approval acts for the anonymous request")
}

// TestRateLimit: a client address asking too often gets 429 with Retry-After.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	var res *apitest.Response
	for range 40 {
		res = submit(env, "owe_nope", "x", "web")
		if res.Status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	}
	require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, anon(env, http.MethodGet, "enroll.sh?token=owe_nope", nil).Status, "the script shares the limit")
}
