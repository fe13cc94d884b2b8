package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SignatureHeader carries a webhook's signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" keyed by the channel secret>.
const SignatureHeader = "X-OpenWatch-Signature"

// Sign returns the SignatureHeader value of body sent at t under secret.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// DefaultDenied lists the networks outbound notifications never reach unless configured
// otherwise: link-local addresses, which include the cloud metadata endpoints.
func DefaultDenied() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("fd00:ec2::254/128")}
}

// Guard decides which addresses outbound notifications may connect to: an address in
// Denied is refused; when Allowed is not empty, only addresses in it are allowed.
type Guard struct {
	Allowed, Denied []netip.Prefix
}

// Permits reports whether the guard lets a connection reach addr.
func (g Guard) Permits(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.Denied {
		if p.Contains(addr) {
			return false
		}
	}
	if len(g.Allowed) == 0 {
		return true
	}
	for _, p := range g.Allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// errRefusedText says an address is outside what the guard allows.
const errRefusedText = "the address is not allowed for notifications"

// dialer returns a dialer that refuses, at connect time, every address the guard does not
// permit, so a name resolving to a denied address is refused too.
func (g Guard) dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !g.Permits(ap.Addr()) {
			return fmt.Errorf("connect to %s: %s", ap.Addr(), errRefusedText)
		}
		return nil
	}}
}

// message is what a channel sends for one notice.
type message struct {
	Title string
	Body  string
	// JSON is the webhook payload.
	JSON []byte
	// Attachment, when set, is attached to an e-mail (a report's export).
	Attachment *Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// sender makes one attempt at delivering a message through a channel.
type sender struct {
	guard   Guard
	timeout time.Duration
	now     func() time.Time
	// roots verifies SMTP servers' certificates (nil: the system's).
	roots *x509.CertPool
}

// send delivers msg through ch with secret (nil when none), within the attempt timeout.
func (s sender) send(ctx context.Context, ch channel, secret []byte, msg message) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	switch ch.Type {
	case TypeWebhook:
		h := http.Header{"Content-Type": {"application/json"}}
		if len(secret) > 0 {
			h.Set(SignatureHeader, Sign(secret, s.now(), msg.JSON))
		}
		return s.post(ctx, ch.Config.URL, h, msg.JSON)
	case TypeSlack:
		body, err := json.Marshal(map[string]string{"text": "*" + msg.Title + "*\n" + msg.Body})
		if err != nil {
			return err
		}
		return s.post(ctx, ch.Config.URL, http.Header{"Content-Type": {"application/json"}}, body)
	case TypeEmail:
		return s.mail(ctx, ch.Config, secret, msg)
	}
	return fmt.Errorf("unknown channel type %q", ch.Type)
}

// post sends body to url and wants a 2xx answer.
func (s sender) post(ctx context.Context, url string, h http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	req.Header.Set("User-Agent", "OpenWatch-Notifier/1")
	client := &http.Client{
		Transport: &http.Transport{DialContext: s.guard.dialer(s.timeout).DialContext, Proxy: nil,
			TLSHandshakeTimeout: s.timeout, DisableKeepAlives: true},
		// Redirects could lead anywhere: the receiver's answer counts as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		return cleanErr(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the receiver answered HTTP %d", res.StatusCode)
	}
	return nil
}

// cleanErr drops the URL from an HTTP client error (it may carry a token in its query).
func cleanErr(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errors.New("the receiver did not answer in time")
		}
		return ue.Unwrap()
	}
	return err
}

// mail sends msg over SMTP as cfg says.
func (s sender) mail(ctx context.Context, cfg Config, password []byte, msg message) error {
	addr := net.JoinHostPort(cfg.SMTPHost, strconv.Itoa(cfg.SMTPPort))
	conn, err := s.guard.dialer(s.timeout).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	tlsCfg := &tls.Config{ServerName: cfg.SMTPHost, MinVersion: tls.VersionTLS12, RootCAs: s.roots}
	if cfg.TLSMode == TLSImplicit {
		conn = tls.Client(conn, tlsCfg)
	}
	c, err := smtp.NewClient(conn, cfg.SMTPHost)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if cfg.TLSMode == TLSStartTLS {
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, string(password), cfg.SMTPHost)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return err
	}
	for _, to := range cfg.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		cfg.From, strings.Join(cfg.To, ", "), headerSafe(msg.Title), s.now().Format(time.RFC1123Z))
	if a := msg.Attachment; a != nil {
		// multipart/mixed: the text, then the file in base64 lines of 76 characters.
		mw := multipart.NewWriter(&b)
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())
		part, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
		_, _ = io.WriteString(part, strings.ReplaceAll(msg.Body, "\n", "\r\n")+"\r\n")
		part, _ = mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		})
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			_, _ = io.WriteString(part, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		_, _ = io.WriteString(part, enc+"\r\n")
		_ = mw.Close()
	} else {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
		b.WriteString(strings.ReplaceAll(msg.Body, "\n", "\r\n"))
		b.WriteString("\r\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// headerSafe keeps a header value on one line.
func headerSafe(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}
