package main

// The client commands (login, logout, hosts, scan, alerts, audit, report, completion) call
// a running server through pkg/openwatch. They share the connection flags, the saved
// sign-in in the user's configuration directory, the output formats and the exit codes.

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/openwatch/openwatch/pkg/openwatch"
)

// Exit codes of the client commands; scripts may rely on them.
const (
	exitOK       = 0
	exitError    = 1 // the server refused the request, or it could not be sent
	exitUsage    = 2 // bad command line
	exitAuth     = 3 // not signed in, the sign-in expired, or permission denied (401/403)
	exitNotFound = 4 // the host, scan or report does not exist (404)
	exitFailed   = 5 // the scan or report finished but failed (or, with --fail-on-findings, rules failed)
)

const exitCodesHelp = `Exit codes: 0 success; 1 error (the server refused the request or could not be reached);
2 usage; 3 authentication needed or permission denied; 4 not found; 5 the scan or report
finished but failed (scan --fail-on-findings: some rule failed).`

// exitErr carries an exit code other than the default 1.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }

// errNotSignedIn: no saved sign-in and no token given.
var errNotSignedIn = errors.New("not signed in: run 'openwatch login' or set OPENWATCH_TOKEN (or OPENWATCH_TOKEN_ID and OPENWATCH_SIGNING_KEY)")

// exitCode maps an error of a client command to its exit code.
func exitCode(err error) int {
	var ee *exitErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errNotSignedIn):
		return exitAuth
	case errors.Is(err, openwatch.ErrNotFound):
		return exitNotFound
	}
	switch openwatch.StatusOf(err) {
	case 401, 403:
		return exitAuth
	case 404:
		return exitNotFound
	}
	return exitError
}

// savedLogin is the file `openwatch login` writes (mode 0600, in a 0700 directory).
type savedLogin struct {
	URL          string `json:"url"`
	CAPEM        string `json:"ca_pem,omitempty"`
	Username     string `json:"username,omitempty"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// configDir is the directory of the saved sign-in: OPENWATCH_CONFIG_DIR, else
// $XDG_CONFIG_HOME/openwatch, else ~/.config/openwatch (os.UserConfigDir's rule).
func configDir(e env) (string, error) {
	if d := e.getenv("OPENWATCH_CONFIG_DIR"); d != "" {
		return d, nil
	}
	if d := e.getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "openwatch"), nil
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "openwatch"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "openwatch"), nil
}

func loginPath(e env) (string, error) {
	d, err := configDir(e)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "login.json"), nil
}

func readLogin(e env) (*savedLogin, error) {
	p, err := loginPath(e)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s savedLogin
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &s, nil
}

// writeLogin replaces the saved sign-in atomically, readable by the user only.
func writeLogin(e env, s *savedLogin) error {
	p, err := loginPath(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(p), ".login-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// conn holds the connection flags every client command takes.
type conn struct {
	url, cacert, token, tokenID, signingKey, output string
}

func (c *conn) register(fs *flag.FlagSet, withOutput bool) {
	fs.StringVar(&c.url, "url", "", "server `URL` (env OPENWATCH_URL; default: the one of 'openwatch login')")
	fs.StringVar(&c.cacert, "cacert", "", "PEM `file` of the CA that signed the server's certificate (env OPENWATCH_CACERT; default: the one of 'openwatch login', else the system's)")
	if withOutput {
		fs.StringVar(&c.output, "output", "table", "output `format`: table, json or yaml")
		fs.StringVar(&c.output, "o", "table", "short for --output")
	}
}

func (c *conn) checkOutput() error {
	switch c.output {
	case "", "table", "json", "yaml":
		return nil
	}
	return &exitErr{exitUsage, fmt.Errorf("--output %q: want table, json or yaml", c.output)}
}

// client builds the API client: a token from the environment wins over the saved
// sign-in, whose refreshed tokens are saved again.
func (c *conn) client(e env, needAuth bool) (*openwatch.Client, error) {
	for _, v := range []struct {
		p   *string
		env string
	}{{&c.url, "OPENWATCH_URL"}, {&c.cacert, "OPENWATCH_CACERT"}, {&c.token, "OPENWATCH_TOKEN"},
		{&c.tokenID, "OPENWATCH_TOKEN_ID"}, {&c.signingKey, "OPENWATCH_SIGNING_KEY"}} {
		if *v.p == "" {
			*v.p = e.getenv(v.env)
		}
	}
	saved, err := readLogin(e)
	if err != nil {
		return nil, err
	}
	opts := []openwatch.Option{openwatch.WithUserAgent("openwatch-cli")}
	url := c.url
	if url == "" && saved != nil {
		url = saved.URL
	}
	if url == "" {
		url = "https://localhost:8443"
	}
	sameServer := saved != nil && strings.TrimRight(saved.URL, "/") == strings.TrimRight(url, "/")
	switch {
	case c.cacert != "":
		pem, err := os.ReadFile(c.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		opts = append(opts, openwatch.WithCACert(pem))
	case sameServer && saved.CAPEM != "":
		opts = append(opts, openwatch.WithCACert([]byte(saved.CAPEM)))
	}
	switch {
	case c.tokenID != "" || c.signingKey != "":
		if c.tokenID == "" || c.signingKey == "" {
			return nil, &exitErr{exitUsage, errors.New("signing needs both OPENWATCH_TOKEN_ID and OPENWATCH_SIGNING_KEY")}
		}
		opts = append(opts, openwatch.WithAPIToken(c.tokenID, c.signingKey))
	case c.token != "":
		opts = append(opts, openwatch.WithBearerToken(c.token))
	case sameServer && saved.AccessToken != "":
		s := *saved
		opts = append(opts, openwatch.WithTokens(openwatch.Tokens{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken}, func(t openwatch.Tokens) {
			s.AccessToken, s.RefreshToken = t.AccessToken, t.RefreshToken
			if err := writeLogin(e, &s); err != nil {
				fmt.Fprintf(e.stderr, "openwatch: could not save the refreshed sign-in: %v\n", err)
			}
		}))
	case needAuth:
		return nil, errNotSignedIn
	}
	return openwatch.New(url, opts...)
}

// explain adds what to do to errors a user can act on: an untrusted certificate (with its
// fingerprint, to compare with the server's) and an expired sign-in.
func explain(err error) error {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) && ua.Cert != nil {
		sum := sha256.Sum256(ua.Cert.Raw)
		return fmt.Errorf("%w\nthe server's certificate (SHA-256 %X) is not signed by a trusted CA: pass --cacert with the CA that signed it (a server with a generated certificate keeps it as <data_dir>/tls/ca.crt); it is never trusted on first use", err, sum)
	}
	if openwatch.StatusOf(err) == 401 {
		return fmt.Errorf("%w\nsign in again with 'openwatch login'", err)
	}
	return err
}

// emit writes v as JSON or YAML, or calls table for the table format.
func emit(w io.Writer, format string, v any, table func(tw *tabwriter.Writer)) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		// Through JSON, so the keys are the API's names.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			return err
		}
		out, err := yaml.Marshal(generic)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// newFlags is a flag set for a client (sub)command, with its usage text.
func newFlags(e env, name, summary, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("openwatch "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: openwatch %s\n\nFlags:\n", summary, usage)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s\n", exitCodesHelp)
	}
	return fs
}

// parse parses flags that may follow positional arguments (openwatch hosts show web-1 -o json).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// readSecret reads a secret: without echo from a terminal (prompting on stderr), else
// the next line of standard input.
func readSecret(e env, in *bufio.Reader, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	return readLine(in)
}

func readLine(in *bufio.Reader) (string, error) {
	line, err := in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if err == io.EOF {
			return "", errors.New("standard input ended")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// progressBar draws a one-line progress bar on w: redrawn in place with a carriage
// return on a terminal; elsewhere (a log, a pipe) one line per status change or 10 %.
type progressBar struct {
	w       io.Writer
	label   string
	last    string
	lastPct int
	status  string
	tty     bool
}

func newProgressBar(e env, label string) *progressBar {
	f, ok := e.stderr.(*os.File)
	return &progressBar{w: e.stderr, label: label, lastPct: -100, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progressBar) set(status string, done, total int) {
	const width = 30
	fill := 0
	pct := 0
	if total > 0 {
		done = min(done, total)
		fill = done * width / total
		pct = done * 100 / total
	}
	line := fmt.Sprintf("%s [%s%s] %3d%% %d/%d %s", p.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, done, total, status)
	if line == p.last {
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
	} else if status != p.status || pct >= p.lastPct+10 || (pct == 100 && p.lastPct != 100) {
		fmt.Fprintln(p.w, line)
		p.lastPct, p.status = pct, status
	}
	p.last = line
}

func (p *progressBar) done() {
	if p.tty && p.last != "" {
		fmt.Fprintln(p.w)
	}
}
