package sshx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Privilege is how a host's commands get root.
type Privilege string

// Privilege modes. PrivUnknown means not learned yet.
const (
	PrivUnknown      Privilege = ""
	PrivRoot         Privilege = "root"          // logged in as uid 0: no sudo
	PrivSudo         Privilege = "sudo"          // sudo -n works
	PrivSudoPassword Privilege = "sudo_password" // sudo needs the password, sent only on stdin
	PrivNone         Privilege = "none"          // no way to root
)

// Command is one named command of a batch.
type Command struct {
	Name   string
	Script string // a POSIX sh snippet, run in its own subshell with stdin from /dev/null
}

// Result is the outcome of one command of a batch.
type Result struct {
	Name     string
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// OK reports whether the command exited 0.
func (r Result) OK() bool { return r.ExitCode == 0 }

// BatchOptions says how a batch gets its privileges.
type BatchOptions struct {
	// Privileged runs the batch as root using the privilege mode.
	Privileged bool
	// Privilege is the mode learned earlier. It is a hint: the batch still
	// checks for a root login first and falls back to detection, except that a
	// known PrivSudoPassword (with AllowSudoPassword) skips the sudo -n try.
	Privilege Privilege
	// SudoPassword is sent over stdin, and only when AllowSudoPassword is
	// true and sudo -n failed. It never appears in argv, environment or
	// script text.
	SudoPassword string
	// AllowSudoPassword is the system setting allowing sudo passwords
	// (default off).
	AllowSudoPassword bool
	// FallbackUnprivileged runs the commands as the login user when no root
	// access is available, instead of failing with ErrPrivilegeDenied.
	FallbackUnprivileged bool
	// Prelude is POSIX sh run once before the commands, in the same shell, so the
	// functions it defines are available to every command (one copy of a long helper
	// instead of one per command).
	Prelude string
	// Timeout, when positive, bounds this batch instead of the client's command timeout
	// (a package upgrade may take far longer than a scan's commands).
	Timeout time.Duration
	// OnDone, when set, is called with a command's index as soon as its end
	// marker arrives, while later commands still run (progress, timings). It
	// runs on the goroutine reading the session's output: keep it short.
	OnDone func(index int)
}

// BatchResult is the outcome of a batch.
type BatchResult struct {
	Results   []Result
	Privilege Privilege // the mode actually used or learned
	Sessions  int       // SSH sessions the batch opened
}

// Result returns the result of the command named name.
func (b BatchResult) Result(name string) (Result, bool) {
	for _, r := range b.Results {
		if r.Name == name {
			return r, true
		}
	}
	return Result{}, false
}

// MaxScriptBytes bounds the size of a batch's generated script, which is
// passed as one argument (Linux limits a single argument to 128 KiB).
const MaxScriptBytes = 120 << 10

// MaxOutputBytes bounds the combined stdout and stderr of a batch.
const MaxOutputBytes = 64 << 20

// Run runs one unprivileged command in its own session.
func (c *Client) Run(ctx context.Context, script string) (Result, error) {
	br, err := c.Batch(ctx, []Command{{Name: "run", Script: script}}, BatchOptions{})
	if err != nil {
		return Result{}, err
	}
	return br.Results[0], nil
}

// Batch runs all commands in one SSH session: a single sh script whose
// per-command outputs are framed by random delimiters, each with its exit
// code. With o.Privileged the commands run as root (root login, sudo -n, or
// sudo -S with the password on stdin when allowed); the mode is detected in
// the same session. The whole call is bounded by ctx and the client's
// CommandTimeout; on expiry the session is closed and the error wraps
// ErrCommandTimeout. Without root access it fails with ErrPrivilegeDenied
// unless o.FallbackUnprivileged. A privileged batch without commands only
// detects the privilege mode.
func (c *Client) Batch(ctx context.Context, cmds []Command, o BatchOptions) (BatchResult, error) {
	delim, err := newDelimiter()
	if err != nil {
		return BatchResult{}, err
	}
	if strings.ContainsAny(o.SudoPassword, "\r\n") {
		return BatchResult{}, errors.New("sshx: a sudo password cannot contain a line break")
	}
	sendPassword := o.Privileged && o.AllowSudoPassword && o.SudoPassword != ""
	script := buildScript(delim, cmds, o, sendPassword)
	if len(script) > MaxScriptBytes {
		return BatchResult{}, fmt.Errorf("sshx: batch script is %d bytes, more than %d", len(script), MaxScriptBytes)
	}
	timeout := c.commandTimeout
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	sess, err := c.newSession()
	if err != nil {
		return BatchResult{}, err
	}
	defer func() { _ = sess.Close() }()
	run := &batchRun{delim: delim, privSeen: make(chan struct{}), onDone: o.OnDone}
	out := run.stdoutWriter()
	sess.Stdout = out
	sess.Stderr = &run.stderr
	stdin, err := sess.StdinPipe()
	if err != nil {
		return BatchResult{}, fmt.Errorf("sshx: batch stdin: %w", err)
	}
	if err := sess.Start(script); err != nil {
		return BatchResult{}, fmt.Errorf("sshx: start batch on %s: %w", c.addr, err)
	}
	finished := make(chan struct{})
	var waitErr error
	go func() { waitErr = sess.Wait(); close(finished) }()

	if ferr := run.feedStdin(ctx, stdin, sendPassword, o.SudoPassword, finished); ferr != nil {
		return c.abort(ctx, sess, ferr)
	}
	select {
	case <-finished:
	case <-ctx.Done():
		return c.abort(ctx, sess, nil)
	}
	var exitErr *ssh.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch on %s: %w", c.addr, waitErr)
	}
	return run.result(cmds, o)
}

// abort terminates and closes the session after a timeout or stdin failure.
// sshd delivers the signal to the session's process group; the batch script
// relays it to commands running under sudo.
func (c *Client) abort(ctx context.Context, sess *ssh.Session, err error) (BatchResult, error) {
	_ = sess.Signal(ssh.SIGTERM)
	_ = sess.Close()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch on %s: %w", c.addr, ErrCommandTimeout)
		}
		return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch on %s: %w", c.addr, ctxErr)
	}
	return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch on %s: %w", c.addr, err)
}

func newDelimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sshx: random delimiter: %w", err)
	}
	return "OWX" + hex.EncodeToString(b), nil
}

// shellQuote quotes s as one single-quoted POSIX sh word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// buildScript returns the remote command: an outer script run as the login
// user that decides the privilege mode, prints it, and executes the inner
// script (the framed commands) as root or as the user.
func buildScript(delim string, cmds []Command, o BatchOptions, allowPassword bool) string {
	inner := buildInner(delim, cmds, o.Prelude)
	var b strings.Builder
	// The inner script travels base64-encoded: quoting it inside the outer script, itself
	// quoted for the login shell, would multiply its quotes at every level.
	b.WriteString("D=" + shellQuote(delim) + "\nI=$(printf '%s' " + base64.StdEncoding.EncodeToString([]byte(inner)) + " | base64 -d) || exit 1\n")
	if !o.Privileged {
		b.WriteString(`m=''; [ "$(id -u)" = 0 ] && m=root
printf '\n%s P %s\n' "$D" "$m"
exec /bin/sh -c "$I" </dev/null
`)
		return "exec /bin/sh -c " + shellQuote(b.String())
	}
	allow, skipNoPass := "0", "0"
	if allowPassword {
		allow = "1"
		if o.Privilege == PrivSudoPassword {
			skipNoPass = "1"
		}
	}
	fallback := "exit 0"
	if o.FallbackUnprivileged {
		fallback = `exec /bin/sh -c "$I" </dev/null`
	}
	fmt.Fprintf(&b, "A=%s\nS=%s\n", allow, skipNoPass)
	b.WriteString(`m=none
if [ "$(id -u)" = 0 ]; then m=root
elif command -v sudo >/dev/null 2>&1; then
  if [ "$S" != 1 ] && sudo -n true </dev/null >/dev/null 2>&1; then m=sudo
  elif [ "$A" = 1 ]; then m=sudo_password
  fi
fi
printf '\n%s P %s\n' "$D" "$m"
case $m in
root) exec /bin/sh -c "$I" </dev/null ;;
sudo) exec sudo -n -- /bin/sh -c "$I" </dev/null ;;
sudo_password) exec sudo -S -p '' -- /bin/sh -c "$I" ;;
esac
`)
	b.WriteString(fallback + "\n")
	return "exec /bin/sh -c " + shellQuote(b.String())
}

// buildInner frames each command with begin and end markers on stdout and
// stderr; the end marker on stdout carries the exit code.
func buildInner(delim string, cmds []Command, prelude string) string {
	var b strings.Builder
	b.WriteString("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; LC_ALL=C; export PATH LC_ALL\n")
	// On SIGTERM or SIGHUP (a timed-out batch) kill the whole process group,
	// including commands running as root under sudo. Commands run in the
	// background so that the trap fires while the shell waits.
	b.WriteString("trap 'trap - TERM HUP; kill -KILL 0' TERM HUP\n")
	if prelude != "" {
		b.WriteString(prelude + "\n")
	}
	fmt.Fprintf(&b, "printf '\\n%%s R %%s\\n' %s \"$(id -u)\"\n", delim)
	for i, c := range cmds {
		fmt.Fprintf(&b, "printf '\\n%%s B %d\\n' %s; printf '\\n%%s B %d\\n' %s >&2\n", i, delim, i, delim)
		fmt.Fprintf(&b, "( eval %s ) </dev/null &\nwait $!\n", shellQuote(c.Script))
		fmt.Fprintf(&b, "printf '\\n%%s E %d %%s\\n' %s \"$?\"; printf '\\n%%s E %d\\n' %s >&2\n", i, delim, i, delim)
	}
	return b.String()
}

// batchRun collects one batch's output.
type batchRun struct {
	delim    string
	stdout   limitedBuffer
	stderr   limitedBuffer
	privOnce sync.Once
	privSeen chan struct{}
	priv     string
	onDone   func(int)
	scanned  int // stdout offset up to which end markers were reported
}

// stdoutWriter returns the writer for stdout, which signals privSeen once
// the privilege line has arrived.
func (r *batchRun) stdoutWriter() io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		n, err := r.stdout.Write(p)
		select {
		case <-r.privSeen:
		default:
			if mode, ok := r.privilegeLine(); ok {
				r.privOnce.Do(func() { r.priv = mode; close(r.privSeen) })
			}
		}
		if r.onDone != nil {
			r.reportEnds()
		}
		return n, err
	})
}

// reportEnds calls onDone for every end marker line completed since the last call.
// Writes come from one goroutine, so the buffer does not change meanwhile.
func (r *batchRun) reportEnds() {
	buf := r.stdout.Bytes()
	marker := []byte("\n" + r.delim + " E ")
	for {
		i := bytes.Index(buf[r.scanned:], marker)
		if i < 0 {
			// A marker may have begun in the last bytes: look at them again next time.
			r.scanned = max(r.scanned, len(buf)-len(marker)+1)
			return
		}
		start := r.scanned + i
		j := bytes.IndexByte(buf[start+len(marker):], '\n')
		if j < 0 {
			r.scanned = start
			return
		}
		fields := strings.Fields(string(buf[start+len(marker) : start+len(marker)+j]))
		if len(fields) > 0 {
			if idx, err := strconv.Atoi(fields[0]); err == nil {
				r.onDone(idx)
			}
		}
		r.scanned = start + len(marker) + j // the line's newline may open the next marker
	}
}

// privilegeLine finds the "D P mode" line in the stdout received so far.
func (r *batchRun) privilegeLine() (string, bool) {
	buf := r.stdout.Bytes()
	marker := []byte("\n" + r.delim + " P ")
	i := bytes.Index(buf, marker)
	if i < 0 {
		return "", false
	}
	rest := buf[i+len(marker):]
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// feedStdin closes stdin, first writing the sudo password when the remote
// script reports that it needs it.
func (r *batchRun) feedStdin(ctx context.Context, stdin io.WriteCloser, mayNeed bool, password string, finished <-chan struct{}) error {
	defer func() { _ = stdin.Close() }()
	if !mayNeed {
		return nil
	}
	select {
	case <-r.privSeen:
	case <-finished:
		return nil // result parsing reports the missing privilege line
	case <-ctx.Done():
		return ctx.Err()
	}
	if Privilege(r.priv) != PrivSudoPassword {
		return nil
	}
	if _, err := io.WriteString(stdin, password+"\n"); err != nil {
		return fmt.Errorf("sshx: write sudo password: %w", err)
	}
	return nil
}

// result parses the framed output into per-command results.
func (r *batchRun) result(cmds []Command, o BatchOptions) (BatchResult, error) {
	if r.stdout.overflow || r.stderr.overflow {
		return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch output exceeds %d bytes", MaxOutputBytes)
	}
	out := parseFrames(r.stdout.Bytes(), r.delim)
	errs := parseFrames(r.stderr.Bytes(), r.delim)
	mode, ok := out.priv, out.privOK
	if !ok {
		return BatchResult{Sessions: 1}, fmt.Errorf("sshx: batch output has no privilege line: %w", ErrProtocol)
	}
	br := BatchResult{Privilege: Privilege(mode), Sessions: 1}
	if o.Privileged {
		if err := checkEscalation(&br, out, o); err != nil {
			return br, err
		}
	}
	if !out.started {
		return br, fmt.Errorf("sshx: batch did not start its commands: %s", strings.TrimSpace(string(r.stderr.Bytes())))
	}
	br.Results = make([]Result, len(cmds))
	for i, c := range cmds {
		f, ok := out.frames[i]
		if !ok || !f.ended {
			return br, fmt.Errorf("sshx: batch output of command %q is incomplete", c.Name)
		}
		br.Results[i] = Result{Name: c.Name, Stdout: f.body, Stderr: errs.frames[i].body, ExitCode: f.code}
	}
	return br, nil
}

// checkEscalation verifies that a privileged batch really ran as root.
func checkEscalation(br *BatchResult, out frames, o BatchOptions) error {
	switch {
	case br.Privilege == PrivNone && o.FallbackUnprivileged:
		return nil
	case br.Privilege == PrivNone:
		return fmt.Errorf("sshx: no root access (not root, sudo -n refused, sudo password not allowed): %w", ErrPrivilegeDenied)
	case !out.started:
		reason := "sudo refused"
		if br.Privilege == PrivSudoPassword {
			reason = "sudo rejected the password"
		}
		br.Privilege = PrivNone
		return fmt.Errorf("sshx: %s: %w", reason, ErrPrivilegeDenied)
	case out.uid != "0":
		br.Privilege = PrivNone
		return fmt.Errorf("sshx: escalated commands run as uid %s, not 0: %w", out.uid, ErrPrivilegeDenied)
	}
	return nil
}

// frame is one command's output.
type frame struct {
	body  []byte
	code  int
	ended bool
}

// frames is the parsed output of one stream.
type frames struct {
	priv    string
	privOK  bool
	started bool
	uid     string
	frames  map[int]*frame
}

// parseFrames splits a stream on marker lines "\n<delim> <kind> <args>\n".
// The newline before a marker was printed by the framing, so it is never
// part of a command's output.
func parseFrames(buf []byte, delim string) frames {
	res := frames{frames: map[int]*frame{}}
	marker := []byte("\n" + delim + " ")
	var cur *frame
	pos := 0
	for {
		i := bytes.Index(buf[pos:], marker)
		if i < 0 {
			return res
		}
		i += pos
		if cur != nil {
			cur.body = append([]byte(nil), buf[pos:i]...)
		}
		cur = nil
		lineStart := i + len(marker)
		j := bytes.IndexByte(buf[lineStart:], '\n')
		if j < 0 {
			return res
		}
		fields := strings.Fields(string(buf[lineStart : lineStart+j]))
		pos = lineStart + j + 1
		cur = res.apply(fields)
	}
}

// apply records one marker line and returns the frame whose body follows it.
func (res *frames) apply(fields []string) *frame {
	if len(fields) == 0 {
		return nil
	}
	arg := func(k int) string {
		if k < len(fields) {
			return fields[k]
		}
		return ""
	}
	switch fields[0] {
	case "P":
		res.priv, res.privOK = arg(1), true
	case "R":
		res.started, res.uid = true, arg(1)
	case "B":
		idx, err := strconv.Atoi(arg(1))
		if err != nil {
			return nil
		}
		f := &frame{}
		res.frames[idx] = f
		return f
	case "E":
		idx, err := strconv.Atoi(arg(1))
		if f, ok := res.frames[idx]; err == nil && ok {
			f.ended = true
			f.code, _ = strconv.Atoi(arg(2))
		}
	}
	return nil
}

// limitedBuffer is a concurrency-safe buffer that drops data past
// MaxOutputBytes and remembers that it did.
type limitedBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > MaxOutputBytes {
		b.overflow = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

// Bytes returns the data written so far; the caller must not modify it.
func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
