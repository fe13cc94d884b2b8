package hostssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/ssh"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// ErrorTypeNoCredential is the error_type of host.unreachable when no credential applies
// to the host.
const ErrorTypeNoCredential = "no_credential"

// Credentials resolves a host's credential and opens its secrets; *credential.Service
// implements it.
type Credentials interface {
	Resolve(ctx context.Context, hostID uuid.UUID) (credential.Resolution, error)
	Secret(ctx context.Context, id uuid.UUID) (credential.Secret, error)
}

// Connector opens SSH connections to inventory hosts. It is safe for concurrent use.
type Connector struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	creds  Credentials
	aw     *audit.Writer
	dialer *sshx.Dialer
	log    *slog.Logger
	ca     CertificateAuthority
	now    func() time.Time
}

// Options tune a connector; zero values take the defaults.
type Options struct {
	// Dialer opens the connections and refuses addresses outside its allowed networks
	// (default: loopback only).
	Dialer *sshx.Dialer
	Logger *slog.Logger
	// CA mints the user certificates of certificate credentials (*sshca.Service); without
	// it such credentials fail to connect.
	CA CertificateAuthority
	// Now is the clock host certificates are checked against (default time.Now).
	Now func() time.Time
}

// NewConnector returns a connector reading hosts, keys and settings from pool, credentials
// from creds and auditing trust decisions with aw.
func NewConnector(pool *pgxpool.Pool, creds Credentials, aw *audit.Writer, opts Options) *Connector {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Dialer == nil {
		opts.Dialer = sshx.Loopback()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Connector{pool: pool, q: dbq.New(pool), creds: creds, aw: aw, dialer: opts.Dialer, log: opts.Logger,
		ca: opts.CA, now: opts.Now}
}

// Conn is an authenticated SSH connection to one host. Its methods are safe for
// concurrent use; each Batch opens one SSH session.
type Conn struct {
	c                 *Connector
	client            *sshx.Client
	hostID            uuid.UUID
	allowSudoPassword bool
	sudoPassword      string

	mu   sync.Mutex
	priv sshx.Privilege
}

// Connect loads the host, resolves its credential, reads the "ssh" settings and dials the
// host once, verifying its host key: against the host CA when the host has a host
// certificate on record (no trust on first use, see verifyCert), else trust on first use.
// The host's own username, when set, overrides the credential's. A certificate
// credential logs in with a fresh key and a user certificate minted for this connection
// only (UserCertValidity). Errors (apperr): resource.not_found (no such live host),
// host.unreachable with detail.error_type (sshx.ErrorType, or "no_credential"),
// host.key_mismatch with the presented and trusted fingerprints, host.certificate_invalid
// and host.certificate_revoked with detail.reason. The cause stays in the error chain, so
// sshx.ErrorType(err) also works on the result.
func (c *Connector) Connect(ctx context.Context, hostID uuid.UUID) (*Conn, error) {
	return c.connect(ctx, hostID, false)
}

// ConnectPinned is Connect for delivering a host certificate to its host: the host is
// verified by its pinned (trusted) plain host key alone, never trusting on first use and
// without asking for a certificate, since installing one is the point. Errors as
// Connect; a host without a pinned key is host.certificate_invalid (no_pinned_key), any
// other key host.key_mismatch.
func (c *Connector) ConnectPinned(ctx context.Context, hostID uuid.UUID) (*Conn, error) {
	return c.connect(ctx, hostID, true)
}

func (c *Connector) connect(ctx context.Context, hostID uuid.UUID, pinnedOnly bool) (*Conn, error) {
	target, err := c.q.HostSSHTarget(ctx, hostID)
	if err != nil {
		return nil, pg.NotFoundAs(err, apperr.NotFound("The host does not exist."))
	}
	cfg, err := LoadConfig(ctx, c.pool)
	if err != nil {
		return nil, err
	}
	secret, err := c.secret(ctx, hostID)
	if err != nil {
		return nil, err
	}
	auth := sshx.Auth{Username: secret.Username, PrivateKey: secret.PrivateKey, Passphrase: secret.Passphrase,
		Password: secret.Password}
	if target.Username != "" {
		auth.Username = target.Username
	}
	priv, err := c.privilege(ctx, hostID)
	if err != nil {
		return nil, err
	}
	var mintErr error
	if secret.AuthMethod == credential.AuthCertificate {
		auth.Certificate = c.userCertificate(hostID, auth.Username, &mintErr)
	}
	opts := sshx.Options{DialTimeout: cfg.DialTimeout(), CommandTimeout: cfg.CommandTimeout()}
	verifier := &hostVerifier{c: c, hostID: hostID}
	var cv *certVerifier
	viaCA, err := c.q.HostSSHCertVerified(ctx, hostID)
	if err != nil {
		return nil, pg.Translate(err)
	}
	switch {
	case pinnedOnly:
		opts.HostKeys = sshx.HostKeyFunc(func(ctx context.Context, _ string, key ssh.PublicKey) error {
			return c.verifyPinned(ctx, hostID, key)
		})
	case viaCA:
		cv = &certVerifier{c: c, hostID: hostID}
		opts.HostKeys, opts.HostKeyAlgorithms = cv, sshx.CertHostKeyAlgorithms()
	default:
		opts.HostKeys = verifier
	}
	addr := net.JoinHostPort(target.Address, strconv.Itoa(int(target.Port)))
	client, err := c.dialer.Dial(ctx, addr, auth, opts)
	if err != nil {
		if mintErr != nil {
			return nil, apperr.As(mintErr)
		}
		if cv != nil {
			return nil, cv.dialError(err)
		}
		var ae *apperr.Error
		if pinnedOnly && errors.As(err, &ae) {
			return nil, ae
		}
		return nil, dialError(err, verifier)
	}
	conn := &Conn{c: c, client: client, hostID: hostID, allowSudoPassword: cfg.AllowSudoPassword, priv: priv}
	if cfg.AllowSudoPassword {
		conn.sudoPassword = secret.Password
	}
	return conn, nil
}

// secret resolves and opens the host's credential; none is host.unreachable
// (no_credential).
func (c *Connector) secret(ctx context.Context, hostID uuid.UUID) (credential.Secret, error) {
	res, err := c.creds.Resolve(ctx, hostID)
	if err == nil {
		var s credential.Secret
		s, err = c.creds.Secret(ctx, res.Credential.ID)
		if err == nil {
			return s, nil
		}
	}
	if apperr.Is(err, apperr.CodeNotFound) {
		return credential.Secret{}, &apperr.Error{Code: apperr.CodeHostUnreachable, Err: err,
			Message: "No SSH credential applies to the host: add one for the host or set a system default.",
			Detail:  map[string]any{"error_type": ErrorTypeNoCredential}}
	}
	return credential.Secret{}, err
}

// privilege returns the host's learned privilege mode (PrivUnknown when none).
func (c *Connector) privilege(ctx context.Context, hostID uuid.UUID) (sshx.Privilege, error) {
	p, err := c.q.HostSSHPrivilege(ctx, hostID)
	if err != nil {
		return sshx.PrivUnknown, pg.IgnoreNotFound(err)
	}
	return sshx.Privilege(p), nil
}

// dialError maps a failed dial to the API's errors.
func dialError(err error, v *hostVerifier) error {
	var mm *KeyMismatchError
	switch {
	case errors.As(err, &mm):
		return &apperr.Error{Code: apperr.CodeHostKeyMismatch, Err: err,
			Message: fmt.Sprintf("The host presented SSH host key %s, but %s is trusted; approve the new key or reset the host's keys.",
				mm.Presented, mm.Trusted),
			Detail: map[string]any{"presented_fingerprint": mm.Presented, "trusted_fingerprint": mm.Trusted}}
	case v.failure != nil:
		return apperr.As(v.failure)
	}
	return unreachable(err)
}

// unreachable wraps an SSH failure as host.unreachable with its error_type.
func unreachable(err error) error {
	typ := sshx.ErrorType(err)
	msg := "The host could not be reached over SSH (" + typ + ")."
	switch typ {
	case sshx.TypePrivilegeDenied:
		msg = "The host was reached over SSH, but commands could not run as root (privilege_denied)."
	case sshx.TypeNotAllowed:
		msg = "The host's address is outside the networks SSH may reach (ssh.allowed_networks), so it was not contacted (not_allowed)."
	}
	return &apperr.Error{Code: apperr.CodeHostUnreachable, Err: err, Message: msg,
		Detail: map[string]any{"error_type": typ}}
}

// Batch runs cmds in one SSH session, as root when privileged, using and persisting the
// host's learned privilege mode. Errors are host.unreachable with detail.error_type
// (timeouts, privilege_denied, ...); the BatchResult is returned as far as it got.
func (cn *Conn) Batch(ctx context.Context, cmds []sshx.Command, privileged bool) (sshx.BatchResult, error) {
	return cn.RunBatch(ctx, cmds, sshx.BatchOptions{Privileged: privileged})
}

// RunBatch is Batch with the other options of sshx.BatchOptions (FallbackUnprivileged);
// the privilege fields of o are filled in from the host's state and the settings.
func (cn *Conn) RunBatch(ctx context.Context, cmds []sshx.Command, o sshx.BatchOptions) (sshx.BatchResult, error) {
	o.Privilege = cn.Privilege()
	o.AllowSudoPassword = cn.allowSudoPassword
	o.SudoPassword = cn.sudoPassword
	res, err := cn.client.Batch(ctx, cmds, o)
	cn.learn(ctx, res.Privilege)
	if err != nil {
		return res, unreachable(err)
	}
	return res, nil
}

// learn stores a privilege mode a batch reported when it differs from the known one. A
// failure to store it is logged: the batch's results are still good.
func (cn *Conn) learn(ctx context.Context, p sshx.Privilege) {
	if p == sshx.PrivUnknown {
		return
	}
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if p == cn.priv {
		return
	}
	err := cn.c.q.HostSSHSetPrivilege(context.WithoutCancel(ctx), dbq.HostSSHSetPrivilegeParams{HostID: cn.hostID, Privilege: string(p)})
	if err != nil {
		cn.c.log.WarnContext(ctx, "store learned SSH privilege mode", slog.String("host_id", cn.hostID.String()),
			slog.String("privilege", string(p)), slog.Any("error", pg.Translate(err)))
		return
	}
	cn.priv = p
}

// Privilege returns the host's privilege mode as last learned.
func (cn *Conn) Privilege() sshx.Privilege {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.priv
}

// SessionsOpened returns how many SSH sessions the connection has opened.
func (cn *Conn) SessionsOpened() int { return cn.client.SessionsOpened() }

// Close closes the connection.
func (cn *Conn) Close() error { return cn.client.Close() }
