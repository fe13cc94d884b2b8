package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/openwatch/openwatch/internal/httpsig"
)

// apiTimeout bounds one `openwatch api` call.
const apiTimeout = 60 * time.Second

// apiFlags are the flags of `openwatch api`; each falls back to an environment variable,
// so a script keeps its secrets out of the process list.
type apiFlags struct {
	url, token, tokenID, signingKey, data, cacert, idemKey string
}

func runAPI(ctx context.Context, e env, args []string) error {
	c := find("api")
	fs := flag.NewFlagSet("openwatch api", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f apiFlags
	fs.StringVar(&f.url, "url", "", "server `URL` (env OPENWATCH_URL; default https://localhost:8443)")
	fs.StringVar(&f.token, "token", "", "bearer `token` (env OPENWATCH_TOKEN); not with --token-id")
	fs.StringVar(&f.tokenID, "token-id", "", "API token `id` whose signing key signs the request (env OPENWATCH_TOKEN_ID)")
	fs.StringVar(&f.signingKey, "signing-key", "", "the token's base64 signing `key` (env OPENWATCH_SIGNING_KEY; better from the environment)")
	fs.StringVar(&f.data, "data", "", "request `body`: JSON text, @FILE, or - for standard input")
	fs.StringVar(&f.cacert, "cacert", "", "PEM `file` of the CA that signed the server's certificate (env OPENWATCH_CACERT)")
	fs.StringVar(&f.idemKey, "idempotency-key", "", "Idempotency-Key header `value` for a retried write")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: openwatch %s\n\nFlags:\n", c.summary, c.usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(e.stderr, "openwatch api: want METHOD and PATH, e.g. openwatch api GET /api/v1/hosts\n")
		return errUsage
	}
	f.fill(e.getenv)
	req, err := f.request(ctx, e.stdin, strings.ToUpper(fs.Arg(0)), fs.Arg(1))
	if err != nil {
		return err
	}
	hc, err := f.client()
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if _, err := e.stdout.Write(body); err != nil {
		return err
	}
	if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
		fmt.Fprintln(e.stdout)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, errorMessage(body))
	}
	return nil
}

func (f *apiFlags) fill(getenv func(string) string) {
	for _, v := range []struct {
		p   *string
		env string
	}{{&f.url, "OPENWATCH_URL"}, {&f.token, "OPENWATCH_TOKEN"}, {&f.tokenID, "OPENWATCH_TOKEN_ID"},
		{&f.signingKey, "OPENWATCH_SIGNING_KEY"}, {&f.cacert, "OPENWATCH_CACERT"}} {
		if *v.p == "" {
			*v.p = getenv(v.env)
		}
	}
	if f.url == "" {
		f.url = "https://localhost:8443"
	}
}

// request builds the request: PATH is absolute ("/api/v1/hosts") or relative to /api/v1
// ("hosts"); it is signed when a token id and signing key are given.
func (f *apiFlags) request(ctx context.Context, stdin io.Reader, method, path string) (*http.Request, error) {
	base, err := url.Parse(strings.TrimRight(f.url, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("--url %q is not an http(s) URL", f.url)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/api/v1/" + path
	}
	target, err := base.Parse(base.Path + path)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", path, err)
	}
	body, err := readBody(f.data, stdin)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.idemKey != "" {
		req.Header.Set("Idempotency-Key", f.idemKey)
	}
	switch {
	case f.tokenID != "" && f.token != "":
		return nil, fmt.Errorf("give either --token or --token-id with --signing-key, not both")
	case f.tokenID != "" || f.signingKey != "":
		if f.tokenID == "" || f.signingKey == "" {
			return nil, fmt.Errorf("signing needs both --token-id and --signing-key (or OPENWATCH_TOKEN_ID and OPENWATCH_SIGNING_KEY)")
		}
		s, err := httpsig.NewSigner(f.tokenID, f.signingKey)
		if err != nil {
			return nil, err
		}
		if err := s.Sign(req); err != nil {
			return nil, err
		}
	case f.token != "":
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	return req, nil
}

// readBody reads --data: nothing, "-" (standard input), "@FILE", or the text itself.
func readBody(data string, stdin io.Reader) ([]byte, error) {
	switch {
	case data == "":
		return nil, nil
	case data == "-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return b, nil
	}
	return []byte(data), nil
}

// client trusts the system roots, plus --cacert when given.
func (f *apiFlags) client() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.cacert != "" {
		pem, err := os.ReadFile(f.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", f.cacert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: apiTimeout}, nil
}

// errorMessage is the envelope's human message, or the start of a body that is not one.
func errorMessage(body []byte) string {
	var env struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"human_message"`
			Detail  map[string]any `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		code := env.Error.Code
		if r, ok := env.Error.Detail["reason"].(string); ok {
			code += ", " + r
		}
		return env.Error.Message + " (" + code + ")"
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
