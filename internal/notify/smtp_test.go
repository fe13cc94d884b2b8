package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/notify"
)

// mailbox is a real SMTP server (go-smtp) on loopback that accepts PLAIN auth with one
// password, only after STARTTLS, and keeps what it receives.
type mailbox struct {
	mu       sync.Mutex
	password string
	authed   bool
	from     string
	to       []string
	data     string
	// all keeps every message received, in order.
	all []string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct{ m *mailbox }

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "ops" || pass != s.m.password {
			return errors.New("bad credentials")
		}
		s.m.mu.Lock()
		s.m.authed = true
		s.m.mu.Unlock()
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if !s.m.authed {
		return errors.New("authenticate first")
	}
	s.m.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.data = string(b)
	s.m.all = append(s.m.all, s.m.data)
	return err
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// testCA makes a CA and a certificate for 127.0.0.1 signed by it.
func testCA(t *testing.T) (*x509.CertPool, tls.Certificate) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "OpenWatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestEmailOverStartTLS sends a test message to a real SMTP server that requires STARTTLS
// (certificate from a test CA) and PLAIN auth with the sealed password.
func TestEmailOverStartTLS(t *testing.T) {
	t.Parallel()
	roots, cert := testCA(t)
	mb := &mailbox{password: "SECRETMARKER-smtp"}
	srv := smtp.NewServer(mb)
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	e := apitest.New(t, func(d *app.Deps) { d.Notify = notify.Options{Timeout: 5 * time.Second, RootCAs: roots} })
	s := e.Admin()
	ch := createChannel(t, e, s, map[string]any{"name": "mail", "type": "email", "secret": mb.password,
		"config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": port, "tls_mode": "starttls", "username": "ops",
			"from": "openwatch@example.com", "to": []string{"oncall@example.com", "sec@example.com"}}})
	require.True(t, ch.SecretSet)
	require.Equal(t, strconv.Itoa(port), strconv.Itoa(*ch.Config.SmtpPort))

	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels/" + ch.Id.String() + ":test", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.NotificationTestResult
	res.Decode(t, &out)
	require.Equal(t, api.NotificationTestResultOutcome("delivered"), out.Outcome, "%v", out.Error)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	require.Equal(t, "openwatch@example.com", mb.from)
	require.Equal(t, []string{"oncall@example.com", "sec@example.com"}, mb.to)
	require.Contains(t, mb.data, "Subject: OpenWatch test notification")
	require.NotContains(t, e.Logs(), mb.password)
}
