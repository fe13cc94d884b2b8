package report_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/report"
)

// inbox is a real SMTP server (go-smtp) on loopback that keeps the messages it receives.
type inbox struct {
	mu       sync.Mutex
	messages []string
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{b: b}, nil }

type inboxSession struct{ b *inbox }

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, string(data))
	s.b.mu.Unlock()
	return err
}
func (s *inboxSession) Reset()        {}
func (s *inboxSession) Logout() error { return nil }

// TestScheduleEmailAttachment: a scheduled report reaches an e-mail channel as an
// attachment in the schedule's format, and the attachment verifies offline.
func TestScheduleEmailAttachment(t *testing.T) {
	t.Parallel()
	box := &inbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "127.0.0.1"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	env := apitest.New(t)
	admin := env.Admin()
	res := call(env, admin, http.MethodPost, "notifications/channels", map[string]any{"name": "mail", "type": "email",
		"config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": l.Addr().(*net.TCPAddr).Port, "tls_mode": "none",
			"from": "openwatch@example.com", "to": []string{"auditor@example.com"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ch api.NotificationChannel
	res.Decode(t, &ch)
	res = call(env, admin, http.MethodPost, "reports/schedules", map[string]any{"name": "daily audit", "kind": "audit",
		"cron": "30 2 * * *", "timezone": "UTC", "format": "pdf", "channel_ids": []string{ch.Id.String()}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sc api.ReportSchedule
	res.Decode(t, &sc)
	require.Equal(t, 2, sc.NextRunAt.UTC().Hour())
	require.Equal(t, 30, sc.NextRunAt.UTC().Minute())

	_, err = env.App.Pool.Exec(context.Background(), `UPDATE report_schedules SET next_run_at = now() WHERE id = $1`, sc.Id)
	require.NoError(t, err)
	n, err := env.App.Reports.RunDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	deadline := time.Now().Add(60 * time.Second)
	var msg string
	for msg == "" {
		require.True(t, time.Now().Before(deadline), "no mail arrived")
		time.Sleep(50 * time.Millisecond)
		box.mu.Lock()
		if len(box.messages) > 0 {
			msg = box.messages[0]
		}
		box.mu.Unlock()
	}
	m, err := mail.ReadMessage(strings.NewReader(msg))
	require.NoError(t, err)
	require.Contains(t, m.Header.Get("Subject"), "Audit trail report (daily audit)")
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	text, err := mr.NextPart()
	require.NoError(t, err)
	body, err := io.ReadAll(text)
	require.NoError(t, err)
	require.Contains(t, string(body), "verify-report")
	att, err := mr.NextPart()
	require.NoError(t, err)
	require.Equal(t, "application/pdf", att.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(att.FileName(), "report-") && strings.HasSuffix(att.FileName(), ".pdf"))
	raw, err := io.ReadAll(att)
	require.NoError(t, err)
	pdf, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	require.NoError(t, err)
	v, err := report.Verify(pdf, nil)
	require.NoError(t, err)
	require.Equal(t, "audit", v.Kind)
	require.False(t, v.Trusted)
}
