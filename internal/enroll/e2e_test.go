package enroll_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestEnrollmentEndToEnd is issue 15's first "done when": a namespaced sshd target (its
// /etc, /home, /run and /var are throwaway overlays; sshd reads /etc/ssh/sshd_config and
// its drop-ins there) runs the served script as root, fetched from the running server
// over loopback TLS and verified against the server's CA; the request is approved through
// the API; the script installs the host certificate and reloads sshd; the host's first
// scan then logs in with a short-lived user certificate, verifying the host certificate,
// and completes. sshd's log shows the certificate authentication.
func TestEnrollmentEndToEnd(t *testing.T) {
	t.Parallel()
	// The server, over TLS on loopback; its certificate's CA is what the script pins.
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "openwatch-ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	require.NoError(t, os.Chmod(filepath.Dir(caFile), 0o755))
	env := apitest.New(t, func(d *app.Deps) { d.Config.Server.TLSCA = caFile })
	handler = env.App.Handler()
	admin := env.Admin()

	target := sshtest.Start(t, sshtest.Options{Overlay: []string{"/etc", "/home", "/run", "/var"}, SystemConfig: true,
		AllowUsers: []string{"openwatch"}})
	tok := createToken(t, env, admin, map[string]any{"name": "e2e", "environment": "e2e", "tags": []string{"enrolled"}})
	require.NotNil(t, tok.CaCertificate, "the server's CA is handed out with the token")
	scriptURL := strings.Replace(tok.ScriptUrl, "https://example.com", srv.URL, 1)
	hostname := fmt.Sprintf("enrolled-%d", target.Port)

	// The host runs the script as root; it waits for the approval below.
	root, err := sshx.Loopback().Dial(context.Background(), target.Addr, target.User(sshtest.UserRoot).Auth(),
		sshx.Options{HostKeys: target.HostKeys(), CommandTimeout: 2 * time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = root.Close() })
	type outcome struct {
		res sshx.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := root.Run(context.Background(), fmt.Sprintf(
			"curl -fsS --cacert '%s' '%s' | OPENWATCH_HOSTNAME=%s OPENWATCH_POLL_INTERVAL=1 sh", caFile, scriptURL, hostname))
		done <- outcome{res, err}
	}()

	var pending api.Enrollment
	require.Eventually(t, func() bool {
		select {
		case o := <-done:
			t.Fatalf("the script ended before its approval (exit %d, %v):\n%s\n%s", o.res.ExitCode, o.err, o.res.Stdout, o.res.Stderr)
		default:
		}
		var page api.EnrollmentList
		res := call(env, admin, http.MethodGet, "admin/enrollments?status=pending", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res.Decode(t, &page)
		if len(page.Enrollments) == 0 {
			return false
		}
		pending = page.Enrollments[0]
		return true
	}, time.Minute, 100*time.Millisecond, "the script never sent its enrollment request")
	require.Equal(t, hostname, pending.Hostname)
	require.Equal(t, target.Host, pending.Address)
	require.Equal(t, target.Port, pending.Port, "the script reads sshd's port")
	require.Equal(t, "ssh-ed25519", pending.HostKeyType)
	require.Equal(t, ssh.FingerprintSHA256(target.HostKey), pending.HostKeyFingerprint, "the script sends sshd's host key")

	res := call(env, admin, http.MethodPost, "admin/enrollments/"+pending.Id.String()+":approve", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var approved api.Enrollment
	res.Decode(t, &approved)
	o := <-done
	require.NoError(t, o.err)
	require.True(t, o.res.OK(), "the script failed (exit %d):\n%s\n%s\nsshd:\n%s", o.res.ExitCode, o.res.Stdout, o.res.Stderr, target.Log())
	require.Contains(t, string(o.res.Stdout), "enrolled: sshd presents its OpenWatch host certificate")

	// The first scan, queued when the script reported the certificate installed, logs in
	// with a user certificate and verifies the host certificate.
	var scan api.Scan
	require.Eventually(t, func() bool {
		var id string
		err := env.App.Pool.QueryRow(context.Background(), `SELECT id::text FROM scans WHERE host_id = $1 AND trigger = 'enrollment'`, approved.HostId).Scan(&id)
		if err != nil {
			return false
		}
		res := call(env, admin, http.MethodGet, "scans/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res.Decode(t, &scan)
		return scan.Status == "completed" || scan.Status == "failed" || scan.Status == "cancelled"
	}, 2*time.Minute, 200*time.Millisecond, "the first scan never finished")
	require.Equal(t, api.ScanStatus("completed"), scan.Status, "scan: %+v\nsshd:\n%s\nserver:\n%s", scan, target.Log(), env.Logs())
	require.Positive(t, scan.RulesTotal)

	// The layout certificate delivery rewrites: the same drop-in, byte for byte.
	root2, err := sshx.Loopback().Dial(context.Background(), target.Addr, target.User(sshtest.UserRoot).Auth(),
		sshx.Options{HostKeys: target.HostKeys()})
	require.NoError(t, err)
	defer func() { _ = root2.Close() }()
	files, err := root2.Run(context.Background(), "cat "+sshca.DropInPath+" && echo --- && cat "+sshca.UserCAKeysPath+
		" && echo --- && head -c 7 "+sshca.KRLPath+" && echo && /usr/sbin/sshd -T | grep -Ei '^(revokedkeys|trustedusercakeys|hostcertificate) ' | sort")
	require.NoError(t, err)
	require.True(t, files.OK(), "%s", files.Stderr)
	userCA, err := env.App.SSHCA.Get(context.Background(), sshca.KindUser)
	require.NoError(t, err)
	certPath, err := sshca.HostCertificatePath("ssh-ed25519")
	require.NoError(t, err)
	require.Equal(t, sshca.DropIn(certPath)+"---\n"+userCA.ReadyLines()+"---\nSSHKRL\n\n"+
		"hostcertificate "+certPath+"\nrevokedkeys "+sshca.KRLPath+"\ntrustedusercakeys "+sshca.UserCAKeysPath+"\n", string(files.Stdout))

	log := target.Log()
	require.Regexp(t, regexp.MustCompile(`Accepted publickey for openwatch from 127\.0\.0\.1 port \d+ ssh2: ED25519-CERT SHA256:\S+ ID openwatch-user-openwatch-\d+`), log,
		"sshd logs the certificate authentication")
	var fingerprint string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT fingerprint_sha256 FROM ssh_host_certificates WHERE host_id = $1 AND status = 'issued'`, approved.HostId).Scan(&fingerprint))
	require.Equal(t, pending.HostKeyFingerprint, fingerprint)
}
