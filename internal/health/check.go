package health

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Kind is what a check looks at.
type Kind string

// The kinds of check.
const (
	KindService Kind = "service"
	KindTCP     Kind = "tcp"
	KindHTTP    Kind = "http"
	KindCommand Kind = "command"
)

// The bounds of a check's timing fields (the same as the spec's).
const (
	MinTimeoutSec   = 1
	MaxTimeoutSec   = 300
	MaxRetries      = 10
	MaxRetryDelay   = 300
	DefaultTCPHost  = "127.0.0.1"
	DefaultHTTPCode = 200
)

// MaxOutputBytes bounds the output an Outcome keeps (the script itself prints at most
// twice as much).
const MaxOutputBytes = 8 << 10

// ServiceParams are a service check's parameters.
type ServiceParams struct {
	Unit string `json:"unit"`
}

// TCPParams are a tcp check's parameters; an empty Host means DefaultTCPHost.
type TCPParams struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port"`
}

// HTTPParams are an http check's parameters; a zero ExpectedStatus means DefaultHTTPCode.
type HTTPParams struct {
	URL            string `json:"url"`
	ExpectedStatus int    `json:"expected_status,omitempty"`
	BodyContains   string `json:"body_contains,omitempty"`
	InsecureTLS    bool   `json:"insecure_tls,omitempty"`
}

// CommandParams are a command check's parameters.
type CommandParams struct {
	Command        string `json:"command"`
	ExpectedOutput string `json:"expected_output,omitempty"`
}

// Params are a check's kind-specific parameters: exactly the field of its kind is set.
type Params struct {
	Service *ServiceParams `json:"service,omitempty"`
	TCP     *TCPParams     `json:"tcp,omitempty"`
	HTTP    *HTTPParams    `json:"http,omitempty"`
	Command *CommandParams `json:"command,omitempty"`
}

// Spec is a check's editable fields.
type Spec struct {
	Name          string
	Kind          Kind
	Params        Params
	TimeoutSec    int
	Retries       int
	RetryDelaySec int
	Enabled       bool
}

// Check is a stored health check.
type Check struct {
	ID uuid.UUID
	Spec
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastTest is the outcome of the last manual test (nil when never tested).
	LastTest *Run
}

// Outcome is what one run of a check on a host found.
type Outcome struct {
	OK bool
	// Detail is one sentence on what was seen: the state, the status, why it failed.
	Detail string
	// Output is what the probe printed on the host, at most MaxOutputBytes.
	Output string
	// Duration is the time the attempts took on the host (10 ms resolution).
	Duration time.Duration
	// Attempts is how many attempts ran (1 + the retries used).
	Attempts int
}

// Run is an outcome recorded on a host at a time.
type Run struct {
	Outcome
	HostID   *uuid.UUID
	TestedAt time.Time
}

// Target returns what the check looks at, for lists: the unit, host:port, the URL or the
// command.
func (c Check) Target() string { return c.Spec.Target() }

// Target returns what a check with these fields looks at.
func (sp Spec) Target() string {
	p := sp.Params
	switch {
	case sp.Kind == KindService && p.Service != nil:
		return p.Service.Unit
	case sp.Kind == KindTCP && p.TCP != nil:
		return net.JoinHostPort(p.TCP.host(), strconv.Itoa(p.TCP.Port))
	case sp.Kind == KindHTTP && p.HTTP != nil:
		return p.HTTP.URL
	case sp.Kind == KindCommand && p.Command != nil:
		return p.Command.Command
	}
	return ""
}

func (p TCPParams) host() string {
	if p.Host == "" {
		return DefaultTCPHost
	}
	return p.Host
}

func (p HTTPParams) status() int {
	if p.ExpectedStatus == 0 {
		return DefaultHTTPCode
	}
	return p.ExpectedStatus
}

var (
	unitName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:_.@-]*$`)
	hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// Validate checks sp as a whole and normalizes it (trims the name, drops the parameters
// of other kinds). Errors: validation_failed naming the field (tcp.port, http.url, ...).
func (sp *Spec) Validate() error {
	sp.Name = strings.TrimSpace(sp.Name)
	if sp.Name == "" || utf8.RuneCountInString(sp.Name) > 128 {
		return apperr.Invalid("name", "A health check needs a name of 1 to 128 characters.")
	}
	if sp.TimeoutSec < MinTimeoutSec || sp.TimeoutSec > MaxTimeoutSec {
		return apperr.Invalid("timeout_sec", fmt.Sprintf("timeout_sec must be between %d and %d seconds.", MinTimeoutSec, MaxTimeoutSec))
	}
	if sp.Retries < 0 || sp.Retries > MaxRetries {
		return apperr.Invalid("retries", fmt.Sprintf("retries must be between 0 and %d.", MaxRetries))
	}
	if sp.RetryDelaySec < 0 || sp.RetryDelaySec > MaxRetryDelay {
		return apperr.Invalid("retry_delay_sec", fmt.Sprintf("retry_delay_sec must be between 0 and %d seconds.", MaxRetryDelay))
	}
	p := sp.Params
	for _, o := range []struct {
		kind Kind
		set  bool
	}{{KindService, p.Service != nil}, {KindTCP, p.TCP != nil}, {KindHTTP, p.HTTP != nil}, {KindCommand, p.Command != nil}} {
		if o.set && o.kind != sp.Kind {
			return apperr.Invalid(string(o.kind), fmt.Sprintf("A %s check takes no %s parameters.", sp.Kind, o.kind))
		}
	}
	switch sp.Kind {
	case KindService:
		return validateService(p.Service)
	case KindTCP:
		return validateTCP(p.TCP)
	case KindHTTP:
		return validateHTTP(p.HTTP)
	case KindCommand:
		return validateCommand(p.Command)
	}
	return apperr.Invalid("kind", "kind must be service, tcp, http or command.")
}

func validateService(p *ServiceParams) error {
	if p == nil {
		return apperr.Invalid("service", "A service check needs service.unit.")
	}
	if len(p.Unit) > 256 || !unitName.MatchString(p.Unit) {
		return apperr.Invalid("service.unit", fmt.Sprintf("%q is not a unit name (letters, digits and :_.@- such as nginx or nginx.service).", p.Unit))
	}
	return nil
}

func validateTCP(p *TCPParams) error {
	if p == nil {
		return apperr.Invalid("tcp", "A tcp check needs tcp.port.")
	}
	if p.Port < 1 || p.Port > 65535 {
		return apperr.Invalid("tcp.port", "tcp.port must be between 1 and 65535.")
	}
	if p.Host != "" && !validHost(p.Host) {
		return apperr.Invalid("tcp.host", fmt.Sprintf("%q is not an IP address or host name.", p.Host))
	}
	return nil
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return len(h) <= 253 && hostName.MatchString(h)
}

func validateHTTP(p *HTTPParams) error {
	if p == nil {
		return apperr.Invalid("http", "An http check needs http.url.")
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return apperr.Invalid("http.url", "http.url must be an http or https URL with a host (and no user name or password).")
	}
	host := u.Hostname()
	if host == "" || !validHost(strings.Trim(host, "[]")) {
		return apperr.Invalid("http.url", fmt.Sprintf("%q is not a valid host in http.url.", host))
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return apperr.Invalid("http.url", "The port in http.url must be between 1 and 65535.")
		}
	}
	if strings.ContainsAny(p.URL, " \t\r\n") {
		return apperr.Invalid("http.url", "http.url cannot contain spaces or line breaks.")
	}
	if p.ExpectedStatus != 0 && (p.ExpectedStatus < 100 || p.ExpectedStatus > 599) {
		return apperr.Invalid("http.expected_status", "http.expected_status must be between 100 and 599.")
	}
	if strings.ContainsAny(p.BodyContains, "\r\n") {
		return apperr.Invalid("http.body_contains", "http.body_contains must be on one line.")
	}
	return nil
}

func validateCommand(p *CommandParams) error {
	if p == nil {
		return apperr.Invalid("command", "A command check needs command.command.")
	}
	if strings.TrimSpace(p.Command) == "" {
		return apperr.Invalid("command.command", "command.command cannot be empty.")
	}
	if len(p.Command) > 8192 {
		return apperr.Invalid("command.command", "command.command is longer than 8192 bytes.")
	}
	if strings.ContainsRune(p.Command, 0) {
		return apperr.Invalid("command.command", "command.command cannot contain a NUL byte.")
	}
	if strings.ContainsAny(p.ExpectedOutput, "\r\n") {
		return apperr.Invalid("command.expected_output", "command.expected_output must be on one line.")
	}
	return nil
}

// Budget is the longest a check's command may run on a host: every attempt timing out
// (plus timeout(1)'s grace before it kills), with the delays between them. A batch of
// checks needs the SSH command timeout to cover the sum of their budgets.
func Budget(c Check) time.Duration {
	attempts := time.Duration(c.Retries + 1)
	return attempts*time.Duration(c.TimeoutSec+2)*time.Second + time.Duration(c.Retries*c.RetryDelaySec)*time.Second
}

// Command returns the one batch command that runs c on a host, as root: its attempts
// (each bounded by the timeout, with the delay between them), then the output of the
// last attempt on stdout and a status report on stderr for Evaluate. The command's name
// is the check's id. It exits 0 exactly when the check passed.
func Command(c Check) sshx.Command {
	return sshx.Command{Name: c.ID.String(), Script: script(c.Spec)}
}

// The status codes a probe exits with, besides 0 (passed) and 1 (failed).
const (
	// codeUnsupported: the host lacks what the check needs (no curl or wget, ...).
	codeUnsupported = 100
	// codeTimeout and codeKilled are timeout(1)'s: the attempt ran out of time.
	codeTimeout = 124
	codeKilled  = 137
)

// The stderr lines of the report: "OWHC <code> <attempts> <centiseconds>" then zero or
// more "OWHD <detail>".
const (
	reportStatus = "OWHC "
	reportDetail = "OWHD "
)

// script is the POSIX sh of a check. The probe runs in its own sh with $OW_DIR (a
// temporary directory kept across attempts) and $OW_T (the timeout); it writes its
// finding to fd 3 and exits 0 (pass), 100 (cannot check) or anything else (fail).
func script(sp Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ow_p=%s\now_t=%d; ow_r=%d; ow_d=%d\n", quote(probe(sp)), sp.TimeoutSec, sp.Retries, sp.RetryDelaySec)
	b.WriteString(`ow_now() { ow_u=; read ow_u ow_x </proc/uptime 2>/dev/null; case $ow_u in *.*) echo "${ow_u%.*}${ow_u#*.}" ;; *) echo 0 ;; esac; }
ow_dir=$(mktemp -d 2>/dev/null) || { echo "OWHC 100 0 0" >&2; echo "OWHD the host could not make a temporary directory (mktemp -d failed)" >&2; exit 1; }
ow_s=$(ow_now); ow_i=0
while :; do
  ow_i=$((ow_i + 1))
  : >"$ow_dir/msg"
  if command -v timeout >/dev/null 2>&1; then
    OW_DIR=$ow_dir OW_T=$ow_t timeout -k 2 "$ow_t" sh -c "$ow_p" >"$ow_dir/out" 2>&1 3>"$ow_dir/msg"
  else
    OW_DIR=$ow_dir OW_T=$ow_t sh -c "$ow_p" >"$ow_dir/out" 2>&1 3>"$ow_dir/msg"
  fi
  ow_rc=$?
  if [ "$ow_rc" -eq 0 ] || [ "$ow_rc" -eq 100 ] || [ "$ow_i" -gt "$ow_r" ]; then break; fi
  sleep "$ow_d"
done
ow_e=$(ow_now)
head -c 16384 "$ow_dir/out"
printf 'OWHC %s %s %s\n' "$ow_rc" "$ow_i" "$((ow_e - ow_s))" >&2
sed 's/^/OWHD /' "$ow_dir/msg" >&2
rm -rf "$ow_dir"
[ "$ow_rc" -eq 0 ]
`)
	return b.String()
}

// probe returns the sh of one attempt of sp.
func probe(sp Spec) string {
	p := sp.Params
	switch sp.Kind {
	case KindService:
		return serviceProbe(p.Service.Unit)
	case KindTCP:
		return tcpProbe(p.TCP.host(), p.TCP.Port)
	case KindHTTP:
		return httpProbe(*p.HTTP)
	case KindCommand:
		return commandProbe(*p.Command)
	}
	return "echo 'unknown kind of check' >&3; exit 100"
}

func serviceProbe(unit string) string {
	u := quote(unit)
	name := quote(strings.TrimSuffix(unit, ".service"))
	return `u=` + u + `; n=` + name + `
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  s=$(systemctl is-active "$u" 2>&1); rc=$?
  echo "$s"
  if [ "$rc" -eq 0 ]; then echo "systemd unit $u is active" >&3; exit 0; fi
  echo "systemd unit $u is not active (systemctl is-active says: $s)" >&3; exit 1
fi
if command -v service >/dev/null 2>&1; then
  service "$n" status; rc=$?
  if [ "$rc" -eq 0 ]; then echo "the host has no systemd; service $n status exited 0 (running)" >&3; exit 0; fi
  echo "the host has no systemd; service $n status exited $rc (not running, or no such service)" >&3; exit 1
fi
echo "the host has neither systemd nor the service command: cannot check service $u" >&3; exit 100
`
}

func tcpProbe(host string, port int) string {
	return `h=` + quote(host) + `; p=` + strconv.Itoa(port) + `
if command -v bash >/dev/null 2>&1; then
  if bash -c 'exec 9<>"/dev/tcp/$1/$2"' ow "$h" "$p"; then echo "$h:$p accepts connections (tested with bash)" >&3; exit 0; fi
  echo "$h:$p did not accept a connection (tested with bash)" >&3; exit 1
fi
if command -v python3 >/dev/null 2>&1; then
  if python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()' "$h" "$p" "$OW_T"; then
    echo "$h:$p accepts connections (tested with python3)" >&3; exit 0
  fi
  echo "$h:$p did not accept a connection (tested with python3)" >&3; exit 1
fi
if command -v nc >/dev/null 2>&1; then
  if nc -z -w "$OW_T" "$h" "$p" </dev/null; then echo "$h:$p accepts connections (tested with nc)" >&3; exit 0; fi
  echo "$h:$p did not accept a connection (tested with nc)" >&3; exit 1
fi
echo "the host has none of bash, python3 or nc: cannot test a TCP port (POSIX sh has no way to open one)" >&3; exit 100
`
}

func httpProbe(p HTTPParams) string {
	curlK, wgetK := "", ""
	if p.InsecureTLS {
		curlK, wgetK = " -k", " --no-check-certificate"
	}
	return `u=` + quote(p.URL) + `; want=` + strconv.Itoa(p.status()) + `; sub=` + quote(p.BodyContains) + `
b="$OW_DIR/body"; : >"$b"
if command -v curl >/dev/null 2>&1; then
  tool=curl
  code=$(curl -sS` + curlK + ` -o "$b" -w '%{http_code}' --max-time "$OW_T" "$u"); rc=$?
elif command -v wget >/dev/null 2>&1; then
  tool=wget
  wget -q -S` + wgetK + ` -O "$b" -T "$OW_T" "$u" 2>"$OW_DIR/hdr"; rc=$?
  code=$(awk '$1 ~ /^HTTP\// { c = $2 } END { print c }' "$OW_DIR/hdr")
  cat "$OW_DIR/hdr"
else
  echo "the host has neither curl nor wget: cannot fetch $u" >&3; exit 100
fi
head -c 4096 "$b"
if [ -z "$code" ] || [ "$code" = 000 ]; then echo "GET $u got no answer ($tool exited $rc)" >&3; exit 1; fi
if [ "$code" != "$want" ]; then echo "GET $u answered HTTP $code, expected $want" >&3; exit 1; fi
if [ -n "$sub" ] && ! grep -F -q -e "$sub" "$b"; then echo "GET $u answered HTTP $code but its body does not contain \"$sub\"" >&3; exit 1; fi
echo "GET $u answered HTTP $code" >&3; exit 0
`
}

func commandProbe(p CommandParams) string {
	return `c=` + quote(p.Command) + `; sub=` + quote(p.ExpectedOutput) + `
sh -c "$c" </dev/null 2>&1 3>&-; rc=$?
if [ "$rc" -ne 0 ]; then echo "the command exited $rc" >&3; exit 1; fi
if [ -n "$sub" ] && ! grep -F -q -e "$sub" "$OW_DIR/out"; then echo "the command exited 0 but its output does not contain \"$sub\"" >&3; exit 1; fi
echo "the command exited 0" >&3; exit 0
`
}

// quote returns s as one single-quoted POSIX sh word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Evaluate reads the result of Command(c) run on a host into an Outcome.
func Evaluate(c Check, r sshx.Result) Outcome {
	out := Outcome{Output: capOutput(r.Stdout)}
	code, attempts, cs, details, ok := report(r.Stderr)
	if !ok {
		msg := strings.TrimSpace(string(capOutput(r.Stderr)))
		if msg == "" {
			msg = fmt.Sprintf("it exited %d without a report", r.ExitCode)
		}
		out.Detail = sentence("The check did not run on the host: " + msg)
		return out
	}
	out.Attempts, out.Duration = attempts, time.Duration(cs)*10*time.Millisecond
	detail := strings.Join(details, "; ")
	switch code {
	case 0:
		out.OK = r.ExitCode == 0
		if detail == "" {
			detail = "the check passed"
		}
	case codeTimeout, codeKilled:
		detail = fmt.Sprintf("the check timed out after %d s", c.TimeoutSec)
	case codeUnsupported:
		if detail == "" {
			detail = "the host lacks what the check needs"
		}
	default:
		if detail == "" {
			detail = fmt.Sprintf("the check failed (exit status %d)", code)
		}
	}
	if c.Retries > 0 && !out.OK && code != codeUnsupported {
		detail += fmt.Sprintf(" (after %d attempts)", attempts)
	} else if out.OK && attempts > 1 {
		detail += fmt.Sprintf(" (on attempt %d)", attempts)
	}
	out.Detail = sentence(detail)
	return out
}

// report parses the stderr report of a check's script.
func report(stderr []byte) (code, attempts int, cs int64, details []string, ok bool) {
	for _, line := range strings.Split(string(stderr), "\n") {
		switch {
		case strings.HasPrefix(line, reportStatus):
			f := strings.Fields(strings.TrimPrefix(line, reportStatus))
			if len(f) != 3 {
				continue
			}
			c, err1 := strconv.Atoi(f[0])
			a, err2 := strconv.Atoi(f[1])
			d, err3 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			code, attempts, cs, ok = c, a, max(d, 0), true
		case strings.HasPrefix(line, reportDetail):
			if d := strings.TrimSpace(strings.TrimPrefix(line, reportDetail)); d != "" {
				details = append(details, d)
			}
		}
	}
	return code, attempts, cs, details, ok
}

// capOutput keeps the first MaxOutputBytes of b as valid UTF-8.
func capOutput(b []byte) string {
	if len(b) > MaxOutputBytes {
		b = b[:MaxOutputBytes]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
