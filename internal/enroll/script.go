package enroll

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/sshca"
)

//go:embed enroll.sh.tmpl
var scriptSource string

var scriptTemplate = template.Must(template.New("enroll.sh").Parse(scriptSource))

// scriptData fills the script template. Every value is checked to be safe inside single
// quotes or a quoted here-document.
type scriptData struct {
	ServerURL  string
	Token      string
	Username   string
	CABundle   string // PEM, ending with a newline; "" when the server is publicly trusted
	UserCAKeys string // the TrustedUserCAKeys content, ending with a newline
	KRL        string // base64 of the KRL
	// The layout on the host (sshca.LayoutDir and the rest), shared with delivery.
	LayoutDir, UserCAKeysPath, KRLPath, DropInDir, DropInPath, HostKeyDir string
	// DropIn is the drop-in without a host certificate (sshca.DropIn("")); once the
	// certificate is installed the script appends HostCertificateDirective and its path.
	DropIn, HostCertificateDirective string
}

// hostRE is what a Host header may hold to be baked into the script.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// ServerURL returns the URL hosts reach the server at: the configured public URL, else
// https:// and the Host the request was sent to. Errors: validation_failed (a Host that
// is not a plain host name or address).
func (s *Service) ServerURL(requestHost string) (string, error) {
	if s.opts.PublicURL != "" {
		u, err := url.Parse(s.opts.PublicURL)
		if err == nil && u.Host != "" && hostRE.MatchString(u.Host) && !strings.ContainsAny(u.Path, "'\"\\ \n") {
			return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
		}
		return "", fmt.Errorf("server.public_url %q cannot be baked into the enrollment script", s.opts.PublicURL)
	}
	if !hostRE.MatchString(requestHost) {
		return "", apperr.Invalid("Host", "the Host header must be a host name or address, with an optional port")
	}
	return "https://" + requestHost, nil
}

// CABundle returns the PEM certificates hosts must trust to verify the server, or "" when
// its certificate is publicly trusted.
func (s *Service) CABundle() (string, error) {
	pem, err := s.opts.CABundle()
	if err != nil {
		return "", fmt.Errorf("read the server's CA bundle: %w", err)
	}
	out := strings.TrimSpace(string(pem))
	if out == "" {
		return "", nil
	}
	if strings.Contains(out, "OPENWATCH_CA") || strings.Contains(out, "'") {
		return "", fmt.Errorf("the server's CA bundle is not plain PEM")
	}
	return out + "\n", nil
}

// Command returns the command line that runs the script of token on a host.
func Command(scriptURL string, withCA bool) string {
	if withCA {
		return fmt.Sprintf("curl -fsS --cacert openwatch-ca.crt '%s' | sudo sh", scriptURL)
	}
	return fmt.Sprintf("curl -fsS '%s' | sudo sh", scriptURL)
}

// ScriptURL returns where hosts fetch the script of a token secret.
func ScriptURL(serverURL, secret string) string {
	return serverURL + "/api/v1/enroll.sh?token=" + url.QueryEscape(secret)
}

// Script renders the enrollment script of a live token, for a request sent to
// requestHost from clientAddr. Anonymous (the token authorizes it); rate-limited per
// client address. Errors: rate_limit.exceeded, auth.invalid_token (detail.reason).
func (s *Service) Script(ctx context.Context, secret, requestHost, clientAddr string) ([]byte, error) {
	if err := limited(s.submit, clientAddr); err != nil {
		return nil, err
	}
	tok, err := s.liveToken(ctx, s.q, secret)
	if err != nil {
		return nil, err
	}
	serverURL, err := s.ServerURL(requestHost)
	if err != nil {
		return nil, err
	}
	bundle, err := s.CABundle()
	if err != nil {
		return nil, err
	}
	userCA, err := s.ca.Get(ctx, sshca.KindUser)
	if err != nil {
		return nil, err
	}
	krl, err := s.ca.KRL(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = scriptTemplate.Execute(&b, scriptData{ServerURL: serverURL, Token: secret, Username: tok.Username,
		CABundle: bundle, UserCAKeys: userCA.ReadyLines(), KRL: base64.StdEncoding.EncodeToString(krl),
		LayoutDir: sshca.LayoutDir, UserCAKeysPath: sshca.UserCAKeysPath, KRLPath: sshca.KRLPath, DropInDir: sshca.DropInDir,
		DropInPath: sshca.DropInPath, HostKeyDir: sshca.HostKeyDir, DropIn: sshca.DropIn(""),
		HostCertificateDirective: sshca.HostCertificateDirective})
	if err != nil {
		return nil, fmt.Errorf("render the enrollment script: %w", err)
	}
	return b.Bytes(), nil
}
