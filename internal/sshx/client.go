package sshx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Default timeouts used when Options leaves them zero.
const (
	DefaultDialTimeout    = 10 * time.Second
	DefaultCommandTimeout = 60 * time.Second
)

// Auth is the login material of one connection. It lives in memory only and
// is never logged.
type Auth struct {
	Username   string
	PrivateKey []byte // PEM (OpenSSH, PKCS#1, PKCS#8); optional
	Passphrase string // decrypts PrivateKey when it is encrypted
	Password   string // password and keyboard-interactive answers; optional
	// Certificate, when set, mints the signers of a public-key login after the TCP
	// connection is open and before the handshake: local is the connection's local
	// address (for a certificate's source-address restriction). They are tried first, in
	// order, one public-key attempt each.
	Certificate CertificateFunc
}

// CertificateFunc returns signers (typically a fresh key with short-lived certificates,
// one per trusted CA key) for one connection whose local address is local.
type CertificateFunc func(ctx context.Context, local net.Addr) ([]ssh.Signer, error)

// HostKeyVerifier decides whether a presented host key is acceptable. Trust
// on first use is implemented by a database-backed verifier elsewhere. It
// returns an error wrapping ErrHostKeyChanged when a different key is stored.
type HostKeyVerifier interface {
	VerifyHostKey(ctx context.Context, addr string, key ssh.PublicKey) error
}

// HostKeyFunc adapts a function to a HostKeyVerifier.
type HostKeyFunc func(ctx context.Context, addr string, key ssh.PublicKey) error

// VerifyHostKey calls f.
func (f HostKeyFunc) VerifyHostKey(ctx context.Context, addr string, key ssh.PublicKey) error {
	return f(ctx, addr, key)
}

// FixedHostKey returns a verifier accepting only want; any other key fails
// with an error wrapping ErrHostKeyChanged.
func FixedHostKey(want ssh.PublicKey) HostKeyVerifier {
	return HostKeyFunc(func(_ context.Context, addr string, key ssh.PublicKey) error {
		if bytes.Equal(key.Marshal(), want.Marshal()) {
			return nil
		}
		return fmt.Errorf("verify host key of %s: got %s, want %s: %w",
			addr, Fingerprint(key), Fingerprint(want), ErrHostKeyChanged)
	})
}

// Fingerprint returns the OpenSSH SHA-256 fingerprint of key ("SHA256:...").
func Fingerprint(key ssh.PublicKey) string {
	sum := sha256.Sum256(key.Marshal())
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// Options tunes Dial.
type Options struct {
	// DialTimeout bounds the TCP connect plus the SSH handshake and
	// authentication (default 10s).
	DialTimeout time.Duration
	// CommandTimeout bounds each Batch call (default 60s).
	CommandTimeout time.Duration
	// HostKeys verifies the server's host key; required.
	HostKeys HostKeyVerifier
	// HostKeyAlgorithms, when set, replaces the client's default host key algorithms
	// (for example only the certificate algorithms, CertHostKeyAlgorithms).
	HostKeyAlgorithms []string
}

// CertHostKeyAlgorithms returns the host certificate algorithms, in the order of the
// default plain ones: a client asking only for these accepts no plain host key.
func CertHostKeyAlgorithms() []string {
	return []string{
		ssh.CertAlgoED25519v01,
		ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
		ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01,
	}
}

// hostKeyAlgorithms is the client's fixed preference order, so that the same
// server always presents the same key type and trust on first use is stable.
var hostKeyAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA,
}

// Client is an authenticated SSH connection. It is safe for concurrent use;
// each Batch opens its own session.
type Client struct {
	conn           *ssh.Client
	addr           string
	user           string
	hostKey        ssh.PublicKey
	commandTimeout time.Duration
	sessions       atomic.Int64
	observer       Observer
}

// Dial connects to addr (host:port), verifies the host key with
// opts.HostKeys and logs in with auth: public key first when a key is given,
// then password, then keyboard-interactive answered with the password. The
// errors it returns classify with ErrorType; an address outside the allowed
// networks is never dialled (ErrNotAllowed).
func (d *Dialer) Dial(ctx context.Context, addr string, auth Auth, opts Options) (*Client, error) {
	c, err := d.login(ctx, addr, auth, opts)
	if d.observer != nil {
		d.observer.Dialed(ErrorType(err))
		if c != nil {
			c.observer = d.observer
		}
	}
	return c, err
}

func (d *Dialer) login(ctx context.Context, addr string, auth Auth, opts Options) (*Client, error) {
	if opts.HostKeys == nil {
		return nil, errors.New("sshx: dial: Options.HostKeys is required")
	}
	opts = opts.withDefaults()
	methods, key, err := authMethods(auth)
	if err != nil {
		return nil, err
	}
	algos := hostKeyAlgorithms
	if len(opts.HostKeyAlgorithms) > 0 {
		algos = opts.HostKeyAlgorithms
	}
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()

	nc, err := d.connect(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("sshx: dial %s: %w", addr, err)
	}
	if auth.Certificate != nil {
		signers, err := auth.Certificate(ctx, nc.LocalAddr())
		if err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("sshx: dial %s: mint certificate: %w", addr, err)
		}
		// One public-key method: the client tries a method name once, so the certificates
		// and the key (authMethods puts it first) share it, certificates first.
		if key != nil {
			signers = append(signers, key)
			methods = methods[1:]
		}
		methods = append([]ssh.AuthMethod{ssh.PublicKeys(signers...)}, methods...)
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()

	rc := &recordingConn{Conn: nc, ack: quickAcker(nc)}
	hk := &hostKeyCheck{ctx: ctx, addr: addr, verifier: opts.HostKeys, conn: rc}
	cfg := &ssh.ClientConfig{
		User:              auth.Username,
		Auth:              methods,
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: algos,
	}
	cc, chans, reqs, err := ssh.NewClientConn(rc, addr, cfg)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("sshx: dial %s: %w", addr, classifyHandshake(ctx, err, hk))
	}
	if !stop() {
		_ = cc.Close()
		return nil, fmt.Errorf("sshx: dial %s: %w", addr, ctx.Err())
	}
	_ = nc.SetDeadline(time.Time{})
	return &Client{
		conn:           ssh.NewClient(cc, chans, reqs),
		addr:           addr,
		user:           auth.Username,
		hostKey:        hk.key,
		commandTimeout: opts.CommandTimeout,
	}, nil
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	return o
}

// authMethods builds the methods in order: key, password, keyboard-interactive (Dial puts
// the certificates first), and returns the key's signer (nil without one).
func authMethods(auth Auth) ([]ssh.AuthMethod, ssh.Signer, error) {
	if auth.Username == "" {
		return nil, nil, errors.New("sshx: dial: username is required")
	}
	var methods []ssh.AuthMethod
	var key ssh.Signer
	if len(auth.PrivateKey) > 0 {
		signer, err := parseKey(auth.PrivateKey, auth.Passphrase)
		if err != nil {
			return nil, nil, err
		}
		key = signer
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if auth.Password != "" {
		pw := auth.Password
		methods = append(methods,
			ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 && auth.Certificate == nil {
		return nil, nil, errors.New("sshx: dial: a private key, a certificate or a password is required")
	}
	return methods, key, nil
}

// parseKey parses a PEM private key, decrypting it with passphrase if needed.
func parseKey(pemBytes []byte, passphrase string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, errors.New("sshx: parse private key: the key is encrypted and no passphrase was given")
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(passphrase))
	}
	if err != nil {
		return nil, fmt.Errorf("sshx: parse private key: %w", err)
	}
	return signer, nil
}

// hostKeyCheck records what happened in the host key callback so handshake
// errors can be classified.
type hostKeyCheck struct {
	ctx      context.Context
	addr     string
	verifier HostKeyVerifier
	conn     *recordingConn
	called   bool
	key      ssh.PublicKey
	err      error
}

func (h *hostKeyCheck) callback(_ string, _ net.Addr, key ssh.PublicKey) error {
	h.called = true
	h.key = key
	h.err = h.verifier.VerifyHostKey(h.ctx, h.addr, key)
	return h.err
}

// classifyHandshake wraps a failed handshake's error with the sentinel that
// describes it.
func classifyHandshake(ctx context.Context, err error, hk *hostKeyCheck) error {
	switch {
	case hk.err != nil:
		return hk.err
	case !hk.called && hk.conn.notSSH():
		return fmt.Errorf("%w: the peer's first bytes are not an SSH identification: %w", ErrProtocol, err)
	case ctx.Err() != nil:
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	case networkErrorType(err) != TypeUnknown:
		return err
	case !hk.called:
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	case isAuthError(err):
		return fmt.Errorf("%w: %w", ErrAuthFailed, err)
	}
	return err
}

// recordingConn remembers the first bytes the server sent and keeps TCP
// quick acknowledgements on.
type recordingConn struct {
	net.Conn
	ack   func()
	mu    sync.Mutex
	first []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.ack()
	c.mu.Lock()
	if room := 4 - len(c.first); room > 0 && n > 0 {
		c.first = append(c.first, p[:min(n, room)]...)
	}
	c.mu.Unlock()
	return n, err
}

// notSSH reports whether the server sent bytes other than "SSH-" first.
func (c *recordingConn) notSSH() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.first) > 0 && !bytes.HasPrefix([]byte("SSH-"), c.first)
}

func isAuthError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unable to authenticate") ||
		strings.Contains(msg, "too many authentication failures") ||
		strings.Contains(msg, "no supported methods remain")
}

// Close closes the connection and every session on it.
func (c *Client) Close() error { return c.conn.Close() }

// Addr returns the address the client dialled.
func (c *Client) Addr() string { return c.addr }

// HostKey returns the host key the server presented (and the verifier accepted).
func (c *Client) HostKey() ssh.PublicKey { return c.hostKey }

// ServerVersion returns the server's SSH identification line.
func (c *Client) ServerVersion() string { return string(c.conn.ServerVersion()) }

// SessionsOpened returns how many SSH sessions this client has opened.
func (c *Client) SessionsOpened() int { return int(c.sessions.Load()) }

// newSession opens a session and counts it.
func (c *Client) newSession() (*ssh.Session, error) {
	s, err := c.conn.NewSession()
	if c.observer != nil {
		c.observer.SessionOpened(err == nil)
	}
	if err != nil {
		return nil, fmt.Errorf("sshx: open session on %s: %w", c.addr, err)
	}
	c.sessions.Add(1)
	return s, nil
}

// quickAcker returns a function that turns TCP quick acknowledgements back
// on. Linux falls back to delayed ACKs after each read; sshd leaves Nagle on
// until a command runs, so its two small replies before the first channel
// confirmation would otherwise wait out the 40 ms delayed-ACK timer.
func quickAcker(nc net.Conn) func() {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return func() {}
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return func() {}
	}
	return func() {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
}
