package hostssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/ssh"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// UserCertValidity is the life of the user certificate minted for one connection of a
// certificate credential: long enough to log in, far too short to be worth stealing.
const UserCertValidity = 5 * time.Minute

// CertificateAuthority signs the user certificates of certificate credentials, one per
// user CA key trusted now (active first); *sshca.Service implements it.
type CertificateAuthority interface {
	SignUserCerts(ctx context.Context, pub ssh.PublicKey, principal string, validity time.Duration, sourceAddress string) ([]*ssh.Certificate, error)
}

// The detail.reason values of host.certificate_invalid (and "revoked" of
// host.certificate_revoked).
const (
	ReasonNoCertificate  = "no_certificate"
	ReasonNotHostCert    = "not_host_certificate"
	ReasonUntrustedCA    = "untrusted_ca"
	ReasonBadSignature   = "bad_signature"
	ReasonNotYetValid    = "not_yet_valid"
	ReasonExpired        = "expired"
	ReasonWrongPrincipal = "wrong_principal"
	ReasonWrongHost      = "wrong_host"
	ReasonNoPinnedKey    = "no_pinned_key"
	ReasonKeyMismatch    = "key_mismatch"
	ReasonRevoked        = "revoked"
)

// userCertificate returns the sshx.CertificateFunc of a certificate credential: a fresh
// Ed25519 key (in memory only) with a user certificate for username from every user CA
// key trusted now (the active key first, then those in their rotation overlap, so a host
// not yet given the new key still logs in), each valid for UserCertValidity and usable
// only from the connection's local address. A failure to mint is kept in failure.
func (c *Connector) userCertificate(hostID uuid.UUID, username string, failure *error) sshx.CertificateFunc {
	return func(ctx context.Context, local net.Addr) ([]ssh.Signer, error) {
		signers, err := c.mintUserCerts(ctx, username, local)
		if err != nil {
			*failure = err
			return nil, err
		}
		for _, signer := range signers {
			cert := signer.PublicKey().(*ssh.Certificate)
			c.log.DebugContext(ctx, "minted SSH user certificate", slog.String("host_id", hostID.String()),
				slog.String("principal", username), slog.Uint64("serial", cert.Serial),
				slog.String("ca", ssh.FingerprintSHA256(cert.SignatureKey)),
				slog.String("source_address", cert.CriticalOptions["source-address"]))
		}
		return signers, nil
	}
}

func (c *Connector) mintUserCerts(ctx context.Context, username string, local net.Addr) ([]ssh.Signer, error) {
	if c.ca == nil {
		return nil, apperr.Internal(errors.New("mint user certificate: no certificate authority configured"))
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("mint user certificate: %w", err))
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("mint user certificate: %w", err))
	}
	source := ""
	if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP != nil && !tcp.IP.IsUnspecified() {
		source = tcp.IP.String()
	}
	certs, err := c.ca.SignUserCerts(ctx, key.PublicKey(), username, UserCertValidity, source)
	if err != nil {
		if apperr.Is(err, apperr.CodeValidationFailed) {
			return nil, &apperr.Error{Code: apperr.CodeHostUnreachable, Err: err,
				Message: fmt.Sprintf("No user certificate can be minted for the login name %q (auth_failed).", username),
				Detail:  map[string]any{"error_type": sshx.TypeAuthFailed}}
		}
		return nil, err
	}
	signers := make([]ssh.Signer, 0, len(certs))
	for _, cert := range certs {
		signer, err := ssh.NewCertSigner(cert, key)
		if err != nil {
			return nil, apperr.Internal(fmt.Errorf("mint user certificate: %w", err))
		}
		signers = append(signers, signer)
	}
	return signers, nil
}

// certVerifier verifies the host certificate of a host verified against the host CA.
type certVerifier struct {
	c       *Connector
	hostID  uuid.UUID
	called  bool
	failure error
}

// VerifyHostKey implements sshx.HostKeyVerifier.
func (v *certVerifier) VerifyHostKey(ctx context.Context, _ string, key ssh.PublicKey) error {
	v.called = true
	v.failure = v.c.verifyCert(ctx, v.hostID, key)
	return v.failure
}

// dialError maps a failed dial of a CA-verified host to the API's errors: a host that
// offered no certificate algorithm at all presented no certificate.
func (v *certVerifier) dialError(err error) error {
	if v.failure != nil {
		return apperr.As(v.failure)
	}
	if !v.called && sshx.ErrorType(err) == sshx.TypeProtocol &&
		strings.Contains(err.Error(), "no common algorithm for host key") {
		v.c.log.Warn("host presented no host certificate", slog.String("host_id", v.hostID.String()))
		return certInvalid(ReasonNoCertificate, err,
			"The host is verified against the OpenWatch host CA but presented a plain host key, not a host certificate; the connection was refused.")
	}
	return unreachable(err)
}

func certInvalid(reason string, err error, msg string) error {
	return &apperr.Error{Code: apperr.CodeHostCertInvalid, Err: err, Message: msg,
		Detail: map[string]any{"reason": reason}}
}

// verifyCert accepts key only when it is a host certificate signed by a host CA key
// trusted now (active or in its rotation overlap), valid now, naming the host's name or
// address as a principal, not revoked, recorded for this host when recorded at all, and
// certifying the host's pinned key. Any other key fails closed with
// host.certificate_invalid or host.certificate_revoked; there is no fallback to trust on
// first use.
func (c *Connector) verifyCert(ctx context.Context, hostID uuid.UUID, key ssh.PublicKey) error {
	err := c.checkCert(ctx, hostID, key)
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			c.log.WarnContext(ctx, "refused host certificate", slog.String("host_id", hostID.String()),
				slog.String("code", string(ae.Code)), slog.Any("reason", ae.Detail["reason"]))
		}
	}
	return err
}

func (c *Connector) checkCert(ctx context.Context, hostID uuid.UUID, key ssh.PublicKey) error {
	cert, ok := key.(*ssh.Certificate)
	if !ok {
		return certInvalid(ReasonNoCertificate, nil,
			"The host is verified against the OpenWatch host CA but presented a plain host key, not a host certificate; the connection was refused.")
	}
	if cert.CertType != ssh.HostCert {
		return certInvalid(ReasonNotHostCert, nil, "The host presented a user certificate instead of a host certificate; the connection was refused.")
	}
	now := c.now()
	cas, err := c.q.SSHCAKeyTrusted(ctx, dbq.SSHCAKeyTrustedParams{Kind: "host", Now: now})
	if err != nil {
		return fmt.Errorf("verify host certificate: %w", pg.Translate(err))
	}
	signer := cert.SignatureKey.Marshal()
	if !slices.ContainsFunc(cas, func(k dbq.SshCaKey) bool {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
		return err == nil && bytes.Equal(pub.Marshal(), signer)
	}) {
		return certInvalid(ReasonUntrustedCA, nil, fmt.Sprintf(
			"The host's certificate is signed by %s, which is not a trusted OpenWatch host CA key; the connection was refused.",
			ssh.FingerprintSHA256(cert.SignatureKey)))
	}
	unix := now.Unix()
	if unix < int64(cert.ValidAfter) {
		return certInvalid(ReasonNotYetValid, nil, "The host's certificate is not valid yet; the connection was refused.")
	}
	if cert.ValidBefore != ssh.CertTimeInfinity && unix >= int64(cert.ValidBefore) {
		return certInvalid(ReasonExpired, nil, fmt.Sprintf("The host's certificate (serial %d) expired at %s; renew it.",
			cert.Serial, time.Unix(int64(cert.ValidBefore), 0).UTC().Format(time.RFC3339)))
	}
	names, err := c.q.HostSSHNames(ctx, hostID)
	if err != nil {
		return fmt.Errorf("verify host certificate: %w", pg.Translate(err))
	}
	principal := ""
	for _, n := range []string{names.Hostname, names.Address} {
		if n != "" && slices.Contains(cert.ValidPrincipals, n) {
			principal = n
			break
		}
	}
	if principal == "" {
		return certInvalid(ReasonWrongPrincipal, nil, fmt.Sprintf(
			"The host's certificate names %s, but neither the host's name %q nor its address %s; the connection was refused.",
			strings.Join(cert.ValidPrincipals, ", "), names.Hostname, names.Address))
	}
	checker := ssh.CertChecker{Clock: c.now}
	if err := checker.CheckCert(principal, cert); err != nil {
		return certInvalid(ReasonBadSignature, err, "The host's certificate does not verify; the connection was refused.")
	}
	rec, err := c.q.HostSSHCertBySerial(ctx, int64(cert.Serial))
	switch err = pg.IgnoreNotFound(err); {
	case err != nil:
		return fmt.Errorf("verify host certificate: %w", err)
	case rec.ID != uuid.Nil && rec.Status == "revoked":
		return &apperr.Error{Code: apperr.CodeHostCertRevoked,
			Message: fmt.Sprintf("The host presented host certificate serial %d, which is revoked; the connection was refused. Issue or reissue a certificate for the host.", cert.Serial),
			Detail:  map[string]any{"reason": ReasonRevoked, "serial": cert.Serial, "certificate_id": rec.ID.String()}}
	case rec.ID != uuid.Nil && rec.HostID != hostID:
		return certInvalid(ReasonWrongHost, nil, fmt.Sprintf(
			"The host presented host certificate serial %d, which was issued to another host; the connection was refused.", cert.Serial))
	}
	pinned, err := c.q.HostSSHKeyTrusted(ctx, hostID)
	if err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("verify host certificate: %w", err)
		}
		return certInvalid(ReasonNoPinnedKey, nil, "The host has no pinned host key to compare its certificate with; the connection was refused.")
	}
	fp := sshx.Fingerprint(cert.Key)
	if fp != pinned.FingerprintSha256 {
		return certInvalid(ReasonKeyMismatch, nil, fmt.Sprintf(
			"The host's certificate certifies host key %s, but %s is pinned; the connection was refused.", fp, pinned.FingerprintSha256))
	}
	if _, err := c.q.HostSSHKeySeen(ctx, dbq.HostSSHKeySeenParams{HostID: hostID, FingerprintSha256: fp}); err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("verify host certificate: %w", err)
		}
	}
	return nil
}

// verifyPinned accepts key only when it is the host's pinned (trusted) key.
func (c *Connector) verifyPinned(ctx context.Context, hostID uuid.UUID, key ssh.PublicKey) error {
	pinned, err := c.q.HostSSHKeyTrusted(ctx, hostID)
	if err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("verify pinned host key: %w", err)
		}
		return certInvalid(ReasonNoPinnedKey, nil, "The host has no pinned host key; a certificate cannot be delivered to it.")
	}
	if fp := sshx.Fingerprint(key); fp != pinned.FingerprintSha256 {
		return &KeyMismatchError{HostID: hostID, Presented: fp, Trusted: pinned.FingerprintSha256}
	}
	return nil
}
