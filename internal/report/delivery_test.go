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

// refusing is an SMTP server that refuses every recipient.
type refusing struct{}

func (refusing) NewSession(*smtp.Conn) (smtp.Session, error) { return refusingSession{}, nil }

type refusingSession struct{}

func (refusingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (refusingSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
}
func (refusingSession) Data(io.Reader) error { return nil }
func (refusingSession) Reset()               {}
func (refusingSession) Logout() error        { return nil }

func smtpServer(t *testing.T, be smtp.Backend) int {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "127.0.0.1"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// TestScheduleDeliveriesRecorded: a scheduled report's deliveries are notification
// deliveries with the report's id: the one to a working mailbox delivered, the one to a
// refusing server failed with its error; the schedule list shows the last run, its report,
// the delivery's error and the next run; the failed delivery can be sent again.
func TestScheduleDeliveriesRecorded(t *testing.T) {
	t.Parallel()
	good := smtpServer(t, &inbox{})
	bad := smtpServer(t, refusing{})
	env := apitest.New(t)
	admin := env.Admin()
	channel := func(name string, port int) string {
		res := call(env, admin, http.MethodPost, "notifications/channels", map[string]any{"name": name, "type": "email",
			"config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": port, "tls_mode": "none",
				"from": "openwatch@example.com", "to": []string{"auditor@example.com"}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var ch api.NotificationChannel
		res.Decode(t, &ch)
		return ch.Id.String()
	}
	goodID, badID := channel("good mail", good), channel("refusing mail", bad)
	res := call(env, admin, http.MethodPost, "reports/schedules", map[string]any{"name": "weekly audit", "kind": "audit",
		"cron": "0 6 * * 1", "timezone": "Europe/Paris", "format": "csv", "channel_ids": []string{goodID, badID}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sc api.ReportSchedule
	res.Decode(t, &sc)
	require.Nil(t, sc.LastRunAt)
	require.Nil(t, sc.LastError)

	_, err := env.App.Pool.Exec(context.Background(), `UPDATE report_schedules SET next_run_at = now() WHERE id = $1`, sc.Id)
	require.NoError(t, err)
	n, err := env.App.Reports.RunDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	byChannel := map[string]api.NotificationDelivery{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !time.Now().Before(deadline) {
			var reports, deliveries string
			_ = env.App.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(status || ' ' || coalesce(error, ''), '; '), '') FROM reports`).Scan(&reports)
			_ = env.App.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(status || ' ' || coalesce(last_error, ''), '; '), '') FROM notification_deliveries`).Scan(&deliveries)
			t.Fatalf("the deliveries did not finish: %v; reports: %s; deliveries: %s", byChannel, reports, deliveries)
		}
		res := call(env, admin, http.MethodGet, "notifications/deliveries", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var list api.NotificationDeliveryListResponse
		res.Decode(t, &list)
		for _, d := range list.Deliveries {
			byChannel[d.ChannelId.String()] = d
		}
		if byChannel[goodID].Status == "delivered" && (byChannel[badID].Status == "failed" || byChannel[badID].Status == "dead") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var schedules api.ReportSchedulePage
	res = call(env, admin, http.MethodGet, "reports/schedules", nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.Decode(t, &schedules)
	require.Len(t, schedules.Items, 1)
	got := schedules.Items[0]
	require.NotNil(t, got.LastRunAt)
	require.NotNil(t, got.LastReportId)
	require.True(t, got.NextRunAt.After(time.Now()), "the next run is ahead: %s", got.NextRunAt)
	require.Equal(t, time.Monday, got.NextRunAt.In(must(time.LoadLocation("Europe/Paris"))).Weekday())

	for _, id := range []string{goodID, badID} {
		d := byChannel[id]
		require.NotNil(t, d.ReportId, "the delivery names its report")
		require.Equal(t, *got.LastReportId, *d.ReportId)
		require.Equal(t, "report", d.Transition)
		require.Contains(t, d.Title, "Audit trail report (weekly audit)")
		require.Positive(t, d.Attempts)
	}
	require.Nil(t, byChannel[goodID].LastError)
	require.NotNil(t, byChannel[goodID].DeliveredAt)
	require.NotNil(t, byChannel[badID].LastError)
	require.Contains(t, *byChannel[badID].LastError, "mailbox unavailable")
	require.NotNil(t, got.LastError, "the schedule shows the failed delivery")
	require.Contains(t, *got.LastError, "delivery of report "+got.LastReportId.String())
	require.Contains(t, *got.LastError, badID)
	require.Contains(t, *got.LastError, "mailbox unavailable")

	// The failed delivery is sent again on request (and fails again, one more attempt).
	res = call(env, admin, http.MethodPost, "notifications/deliveries/"+byChannel[badID].Id.String()+":redeliver", nil)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	before := byChannel[badID].Attempts
	for {
		require.True(t, time.Now().Before(deadline), "the redelivery did not run")
		res := call(env, admin, http.MethodGet, "notifications/deliveries?channel_id="+badID, nil)
		var list api.NotificationDeliveryListResponse
		res.Decode(t, &list)
		require.Len(t, list.Deliveries, 1)
		if d := list.Deliveries[0]; d.Attempts > before && d.Status != "pending" {
			require.Contains(t, *d.LastError, "mailbox unavailable")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
