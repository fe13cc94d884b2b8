package sshca

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/ssh"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// The kinds of CA.
const (
	KindUser = "user"
	KindHost = "host"
)

// The stored statuses of a host certificate; StatusExpired is an issued one past its end.
const (
	StatusIssued  = "issued"
	StatusRevoked = "revoked"
	StatusExpired = "expired"
)

// Bounds of what the CA signs.
const (
	// MaxUserCertValidity bounds a user certificate's life: they are minted per job.
	MaxUserCertValidity = 24 * time.Hour
	// MinCertValidity is the shortest certificate the CA signs.
	MinCertValidity = time.Minute
	// MaxHostCertValidity bounds a host certificate's life (825 days).
	MaxHostCertValidity = 825 * 24 * time.Hour
	// DefaultHostCertValidity is a host certificate's life unless asked otherwise.
	DefaultHostCertValidity = 90 * 24 * time.Hour
	// DefaultOverlap is how long a rotated-out key stays trusted unless asked otherwise.
	DefaultOverlap = 7 * 24 * time.Hour
	// MaxOverlap bounds the overlap of a rotation.
	MaxOverlap = 90 * 24 * time.Hour
	// backdate is how far before now a certificate becomes valid, for clock skew.
	backdate = time.Minute
	// maxPrincipals bounds the principals of one certificate.
	maxPrincipals = 16
)

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Service is the certificate authority.
type Service struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	sealer Sealer
	aw     *audit.Writer
	now    func() time.Time
	// delivery, when enabled, installs new certificates and the KRL on hosts.
	delivery *Delivery
}

// NewService returns the CA. now is the clock (time.Now when nil).
func NewService(pool *pgxpool.Pool, sealer Sealer, aw *audit.Writer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), sealer: sealer, aw: aw, now: now}
}

// CA is a CA's trusted keys, the active one first.
type CA struct {
	Kind string
	Keys []Key
}

// Key is one trusted CA key.
type Key struct {
	ID           uuid.UUID
	KeyID        string
	PublicKey    ssh.PublicKey
	Fingerprint  string
	CreatedAt    time.Time
	TrustedUntil *time.Time // nil for the active key
}

// Line returns the key in authorized_keys format with its key id as comment.
func (k Key) Line() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey))) + " " + k.KeyID
}

// ReadyLines returns, for the user CA, the content of a TrustedUserCAKeys file; for the
// host CA, the @cert-authority lines of known_hosts.
func (c CA) ReadyLines() string {
	var b strings.Builder
	for _, k := range c.Keys {
		if c.Kind == KindHost {
			b.WriteString("@cert-authority * ")
		}
		b.WriteString(k.Line())
		b.WriteByte('\n')
	}
	return b.String()
}

// Trusts returns whether pub is one of the CA's trusted keys.
func (c CA) Trusts(pub ssh.PublicKey) bool {
	raw := pub.Marshal()
	return slices.ContainsFunc(c.Keys, func(k Key) bool { return bytes.Equal(k.PublicKey.Marshal(), raw) })
}

func checkKind(kind string) error {
	if kind != KindUser && kind != KindHost {
		return apperr.Invalid("kind", "kind must be user or host")
	}
	return nil
}

var errNoRow = errors.New("no row")

// active returns the active key of kind, creating it on first use.
func (s *Service) active(ctx context.Context, q *dbq.Queries, kind string) (dbq.SshCaKey, error) {
	row, err := q.SSHCAKeyActive(ctx, kind)
	if err = pg.NotFoundAs(err, errNoRow); !errors.Is(err, errNoRow) {
		return row, err
	}
	if _, err := s.create(ctx, q, kind); err != nil && !errors.Is(err, errNoRow) {
		return dbq.SshCaKey{}, err
	}
	// Created here or by a concurrent first use.
	row, err = q.SSHCAKeyActive(ctx, kind)
	return row, pg.Translate(err)
}

// create generates a key of kind and inserts it as active; errNoRow when another one is
// active already.
func (s *Service) create(ctx context.Context, q *dbq.Queries, kind string) (dbq.SshCaKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return dbq.SshCaKey{}, fmt.Errorf("generate %s CA key: %w", kind, err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return dbq.SshCaKey{}, err
	}
	id := uuid.New()
	sealed, err := s.sealer.Seal(priv, privateKeyColumn.AD(id))
	if err != nil {
		return dbq.SshCaKey{}, fmt.Errorf("seal %s CA key: %w", kind, err)
	}
	keyID := fmt.Sprintf("openwatch-%s-ca-%s-%s", kind, s.now().UTC().Format("20060102"), id.String()[:8])
	row, err := q.SSHCAKeyInsert(ctx, dbq.SSHCAKeyInsertParams{
		ID: id, Kind: kind, KeyID: keyID, PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))),
		FingerprintSha256: ssh.FingerprintSHA256(sshPub), PrivateKeySealed: sealed,
	})
	return row, pg.NotFoundAs(err, errNoRow)
}

// signer opens the private key of a CA key row.
func (s *Service) signer(row dbq.SshCaKey) (ssh.Signer, error) {
	raw, err := s.sealer.Open(row.PrivateKeySealed, privateKeyColumn.AD(row.ID))
	if err != nil {
		return nil, fmt.Errorf("open %s CA key %s: %w", row.Kind, row.KeyID, err)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%s CA key %s: not an Ed25519 private key", row.Kind, row.KeyID)
	}
	return ssh.NewSignerFromKey(ed25519.PrivateKey(raw))
}

// Get returns the trusted keys of a CA (creating its key on first use). Guarded by
// host:read.
func (s *Service) Get(ctx context.Context, kind string) (CA, error) {
	if err := checkKind(kind); err != nil {
		return CA{}, err
	}
	if _, err := s.active(ctx, s.q, kind); err != nil {
		return CA{}, err
	}
	return s.trusted(ctx, s.q, kind)
}

func (s *Service) trusted(ctx context.Context, q *dbq.Queries, kind string) (CA, error) {
	rows, err := q.SSHCAKeyTrusted(ctx, dbq.SSHCAKeyTrustedParams{Kind: kind, Now: s.now()})
	if err != nil {
		return CA{}, pg.Translate(err)
	}
	ca := CA{Kind: kind, Keys: make([]Key, 0, len(rows))}
	for _, r := range rows {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(r.PublicKey))
		if err != nil {
			return CA{}, fmt.Errorf("parse %s CA key %s: %w", kind, r.KeyID, err)
		}
		ca.Keys = append(ca.Keys, Key{ID: r.ID, KeyID: r.KeyID, PublicKey: pub, Fingerprint: r.FingerprintSha256,
			CreatedAt: r.CreatedAt, TrustedUntil: r.TrustedUntil})
	}
	return ca, nil
}

// Rotate makes a new active key of kind; the previous one stays trusted for overlap.
// Rotating the host CA renews every issued, unexpired certificate of a live host with the
// new key (same key, principals and validity; each queues its delivery), so hosts present
// a certificate of the new key before the old one's trust ends. Rotating the user CA queues a delivery of the trusted keys and the KRL to every host
// OpenWatch keeps its files on, now and at the end of the overlap. Guarded by
// system:config:write; audited.
func (s *Service) Rotate(ctx context.Context, actor *authz.Principal, kind string, overlap time.Duration) (CA, error) {
	if err := checkKind(kind); err != nil {
		return CA{}, err
	}
	if overlap < 0 || overlap > MaxOverlap {
		return CA{}, apperr.Invalid("overlap_hours", "overlap_hours must be between 0 and 2160")
	}
	var out CA
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if _, err := s.active(ctx, q, kind); err != nil {
			return err
		}
		prev, err := q.SSHCAKeyActiveLock(ctx, kind)
		if err != nil {
			return pg.Translate(err)
		}
		now := s.now()
		if err := q.SSHCAKeyRetire(ctx, dbq.SSHCAKeyRetireParams{Now: now, TrustedUntil: now.Add(overlap), ID: prev.ID}); err != nil {
			return pg.Translate(err)
		}
		next, err := s.create(ctx, q, kind)
		if err != nil {
			return err
		}
		if out, err = s.trusted(ctx, q, kind); err != nil {
			return err
		}
		if kind == KindUser {
			// The hosts get the new key now (both are trusted during the overlap) and the
			// KRL revoking the old one when the overlap ends.
			if err := s.queueTrustDelivery(ctx, tx); err != nil {
				return err
			}
			if err := s.scheduleTrustDelivery(ctx, tx, now.Add(overlap)); err != nil {
				return err
			}
		} else if err := s.renewAllTx(ctx, tx, actor); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSHCARotated, "ssh_ca", kind, map[string]any{
			"previous_key_id": prev.KeyID, "previous_fingerprint": prev.FingerprintSha256,
			"key_id": next.KeyID, "fingerprint": next.FingerprintSha256,
			"previous_trusted_until": now.Add(overlap).UTC().Format(time.RFC3339),
		}))
	})
	return out, err
}

// SignUserCert signs a short-lived user certificate for pub with the active user CA key:
// one principal, valid from a minute ago for validity (1 minute to 24 hours), no
// extensions (no pty, forwarding or agent: commands only) and no force-command; with
// sourceAddress (comma-separated addresses or CIDRs) the source-address critical option
// limits where it may be used from. For the jobs that log in to hosts; not audited (the
// jobs are).
func (s *Service) SignUserCert(ctx context.Context, pub ssh.PublicKey, principal string, validity time.Duration, sourceAddress string) (*ssh.Certificate, error) {
	certs, err := s.signUser(ctx, pub, principal, validity, sourceAddress, false)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// SignUserCerts is SignUserCert once per user CA key trusted now: the active key first,
// then the keys still in their rotation overlap, each certificate with its own serial. A
// host that still trusts only a rotated-out key (its files not yet delivered) accepts the
// certificate of that key.
func (s *Service) SignUserCerts(ctx context.Context, pub ssh.PublicKey, principal string, validity time.Duration, sourceAddress string) ([]*ssh.Certificate, error) {
	return s.signUser(ctx, pub, principal, validity, sourceAddress, true)
}

func (s *Service) signUser(ctx context.Context, pub ssh.PublicKey, principal string, validity time.Duration, sourceAddress string,
	allTrusted bool) ([]*ssh.Certificate, error) {
	if pub == nil {
		return nil, apperr.Invalid("public_key", "a public key is required")
	}
	if principal == "" || len(principal) > 64 || strings.ContainsAny(principal, " ,\t\n") {
		return nil, apperr.Invalid("principal", "principal must be a user name of 1 to 64 characters")
	}
	if validity < MinCertValidity || validity > MaxUserCertValidity {
		return nil, apperr.Invalid("validity", "a user certificate is valid for 1 minute to 24 hours")
	}
	crit := map[string]string{}
	if sourceAddress != "" {
		for _, a := range strings.Split(sourceAddress, ",") {
			if _, _, err := net.ParseCIDR(a); err != nil && net.ParseIP(a) == nil {
				return nil, apperr.Invalid("source_address", "source_address must be addresses or CIDR ranges separated by commas")
			}
		}
		crit["source-address"] = sourceAddress
	}
	row, err := s.active(ctx, s.q, KindUser)
	if err != nil {
		return nil, err
	}
	rows := []dbq.SshCaKey{row}
	if allTrusted {
		trusted, err := s.q.SSHCAKeyTrusted(ctx, dbq.SSHCAKeyTrustedParams{Kind: KindUser, Now: s.now()})
		if err != nil {
			return nil, pg.Translate(err)
		}
		for _, r := range trusted {
			if r.ID != row.ID {
				rows = append(rows, r)
			}
		}
	}
	now := s.now()
	out := make([]*ssh.Certificate, 0, len(rows))
	for _, r := range rows {
		serial, err := s.q.SSHCertNextSerial(ctx)
		if err != nil {
			return nil, pg.Translate(err)
		}
		cert := &ssh.Certificate{
			Key: pub, Serial: uint64(serial), CertType: ssh.UserCert,
			KeyId:           fmt.Sprintf("openwatch-user-%s-%d", principal, serial),
			ValidPrincipals: []string{principal},
			ValidAfter:      uint64(now.Add(-backdate).Unix()), ValidBefore: uint64(now.Add(validity).Unix()),
			Permissions: ssh.Permissions{CriticalOptions: crit, Extensions: map[string]string{}},
		}
		if err := s.sign(r, cert); err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}

func (s *Service) sign(row dbq.SshCaKey, cert *ssh.Certificate) error {
	signer, err := s.signer(row)
	if err != nil {
		return err
	}
	return cert.SignCert(rand.Reader, signer)
}

// Certificate is a recorded host certificate.
type Certificate struct {
	dbq.SshHostCertificate
	CAKeyID string
	// Status is issued, revoked or expired (issued and past ValidBefore).
	Status string
}

// SignHostCert signs pub as a host certificate of host hostID for principals (1 to 16
// names or addresses) with the active host CA key, valid from a minute ago for validity,
// and records it. For enrollment; actor nil is the system. Errors: resource.not_found
// (host), validation.
func (s *Service) SignHostCert(ctx context.Context, hostID uuid.UUID, pub ssh.PublicKey, principals []string, validity time.Duration) (Certificate, error) {
	var out Certificate
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.signHost(ctx, tx, nil, hostID, pub, principals, validity, nil)
		return err
	})
	return out, err
}

// SignHostCertTx is SignHostCert inside the caller's transaction, audited as actor (nil
// for the system): enrollment signs the host it creates in the same transaction.
func (s *Service) SignHostCertTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, hostID uuid.UUID, pub ssh.PublicKey,
	principals []string, validity time.Duration) (Certificate, error) {
	return s.signHost(ctx, tx, actor, hostID, pub, principals, validity, nil)
}

func checkPrincipals(principals []string) error {
	if len(principals) == 0 || len(principals) > maxPrincipals {
		return apperr.Invalid("principals", "a host certificate names 1 to 16 principals")
	}
	for _, p := range principals {
		if p == "" || len(p) > 253 || strings.ContainsAny(p, " ,\t\n*?") {
			return apperr.Invalid("principals", "each principal is a host name or address without spaces, commas or wildcards")
		}
	}
	return nil
}

// signHost signs and records a host certificate inside tx and audits it.
func (s *Service) signHost(ctx context.Context, tx pgx.Tx, actor *authz.Principal, hostID uuid.UUID, pub ssh.PublicKey,
	principals []string, validity time.Duration, renewed *dbq.SshHostCertificate) (Certificate, error) {
	if pub == nil {
		return Certificate{}, apperr.Invalid("public_key", "a public key is required")
	}
	if _, isCert := pub.(*ssh.Certificate); isCert {
		return Certificate{}, apperr.Invalid("public_key", "a host key, not a certificate, is required")
	}
	if err := checkPrincipals(principals); err != nil {
		return Certificate{}, err
	}
	if validity < MinCertValidity || validity > MaxHostCertValidity {
		return Certificate{}, apperr.Invalid("validity_days", "a host certificate is valid for 1 to 825 days")
	}
	q := s.q.WithTx(tx)
	if _, err := q.SSHHostNames(ctx, hostID); err != nil {
		return Certificate{}, pg.NotFoundAs(err, errHostNotFound())
	}
	row, err := s.active(ctx, q, KindHost)
	if err != nil {
		return Certificate{}, err
	}
	serial, err := q.SSHCertNextSerial(ctx)
	if err != nil {
		return Certificate{}, pg.Translate(err)
	}
	now := s.now()
	after, before := now.Add(-backdate).Truncate(time.Second), now.Add(validity).Truncate(time.Second)
	cert := &ssh.Certificate{
		Key: pub, Serial: uint64(serial), CertType: ssh.HostCert,
		KeyId:           fmt.Sprintf("openwatch-host-%s-%d", hostID, serial),
		ValidPrincipals: principals,
		ValidAfter:      uint64(after.Unix()), ValidBefore: uint64(before.Unix()),
	}
	if err := s.sign(row, cert); err != nil {
		return Certificate{}, err
	}
	var from *uuid.UUID
	if renewed != nil {
		from = &renewed.ID
	}
	by := ""
	if actor != nil {
		by = actor.Actor().String()
	}
	rec, err := q.SSHHostCertInsert(ctx, dbq.SSHHostCertInsertParams{
		ID: uuid.New(), Serial: serial, HostID: hostID, CaKeyID: row.ID, KeyType: pub.Type(),
		FingerprintSha256: ssh.FingerprintSHA256(pub), Principals: principals,
		Certificate: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert))),
		ValidAfter:  after, ValidBefore: before, RenewedFrom: from, IssuedBy: by,
	})
	if err != nil {
		return Certificate{}, pg.Translate(err)
	}
	action := audit.ActionHostCertIssued
	detail := map[string]any{"certificate_id": rec.ID.String(), "serial": serial, "fingerprint_sha256": rec.FingerprintSha256,
		"principals": principals, "valid_before": before.UTC().Format(time.RFC3339), "ca_key_id": row.KeyID}
	if renewed != nil {
		action = audit.ActionHostCertRenewed
		detail["renewed_from"] = renewed.ID.String()
	}
	if err := s.aw.Append(ctx, tx, audit.For(ctx, actor, action, "host", hostID.String(), detail)); err != nil {
		return Certificate{}, err
	}
	return s.describe(rec, row.KeyID), nil
}

func (s *Service) describe(r dbq.SshHostCertificate, caKeyID string) Certificate {
	st := r.Status
	if st == StatusIssued && !r.ValidBefore.After(s.now()) {
		st = StatusExpired
	}
	return Certificate{SshHostCertificate: r, CAKeyID: caKeyID, Status: st}
}

func errHostNotFound() error { return apperr.NotFound("The host does not exist.") }
func errCertNotFound() error { return apperr.NotFound("The certificate does not exist.") }

// hostPrincipals returns the host's name and address, then extra, each once.
func hostPrincipals(ctx context.Context, q *dbq.Queries, hostID uuid.UUID, extra []string) ([]string, error) {
	names, err := q.SSHHostNames(ctx, hostID)
	if err != nil {
		return nil, pg.NotFoundAs(err, errHostNotFound())
	}
	out := []string{names.Hostname}
	for _, p := range append([]string{names.Address}, extra...) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Issue signs the host's trusted (pinned) host key. Guarded by host:write. Errors:
// resource.not_found (host), resource.conflict (no trusted key), validation.
func (s *Service) Issue(ctx context.Context, actor *authz.Principal, hostID uuid.UUID, extra []string, validity time.Duration) (Certificate, error) {
	var out Certificate
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.issueTx(ctx, tx, actor, hostID, extra, validity)
		return err
	})
	return out, err
}

func (s *Service) issueTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, hostID uuid.UUID, extra []string, validity time.Duration) (Certificate, error) {
	q := s.q.WithTx(tx)
	principals, err := hostPrincipals(ctx, q, hostID, extra)
	if err != nil {
		return Certificate{}, err
	}
	key, err := q.SSHHostTrustedKey(ctx, hostID)
	if err != nil {
		return Certificate{}, pg.NotFoundAs(err, apperr.Conflict("The host has no trusted host key yet: connect to it once, or approve its pending key, first."))
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key.PublicKey))
	if err != nil {
		return Certificate{}, fmt.Errorf("parse the host's trusted key: %w", err)
	}
	out, err := s.signHost(ctx, tx, actor, hostID, pub, principals, validity, nil)
	if err != nil {
		return Certificate{}, err
	}
	return out, s.queueDelivery(ctx, tx, hostID)
}

// ReissueReason is the revoke reason of the certificates a reissue replaced.
const ReissueReason = "reissued"

// Reissue issues a certificate for the host's trusted (pinned) host key and, in the same
// transaction, revokes every other certificate of the host still issued (reason
// ReissueReason), each audited. Guarded by host:write. Errors: resource.not_found (host),
// resource.conflict (no trusted key), validation.
func (s *Service) Reissue(ctx context.Context, actor *authz.Principal, hostID uuid.UUID, extra []string, validity time.Duration) (Certificate, error) {
	var out Certificate
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if out, err = s.issueTx(ctx, tx, actor, hostID, extra, validity); err != nil {
			return err
		}
		by, reason := actor.Actor().String(), ReissueReason
		rows, err := s.q.WithTx(tx).SSHHostCertRevokeIssuedOfHost(ctx, dbq.SSHHostCertRevokeIssuedOfHostParams{
			Now: s.now(), RevokedBy: &by, Reason: &reason, HostID: hostID, Keep: out.ID})
		if err != nil {
			return pg.Translate(err)
		}
		for _, r := range rows {
			if err := s.resolveExpiring(ctx, tx, r.ID); err != nil {
				return err
			}
			if err := s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostCertRevoked, "host", hostID.String(), map[string]any{
				"certificate_id": r.ID.String(), "serial": r.Serial, "fingerprint_sha256": r.FingerprintSha256,
				"reason": reason, "replaced_by": out.ID.String(),
			})); err != nil {
				return err
			}
		}
		if len(rows) > 0 {
			return s.queueTrustDelivery(ctx, tx)
		}
		return nil
	})
	return out, err
}

// Renew signs the key of certificate id again for its principals. Guarded by host:write.
// Errors: resource.not_found, resource.conflict (revoked), validation.
func (s *Service) Renew(ctx context.Context, actor *authz.Principal, id uuid.UUID, validity time.Duration) (Certificate, error) {
	var out Certificate
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.renewTx(ctx, tx, actor, id, validity)
		return err
	})
	return out, err
}

// renewTx is Renew inside tx; actor nil is the system (automatic renewal).
func (s *Service) renewTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, id uuid.UUID, validity time.Duration) (Certificate, error) {
	q := s.q.WithTx(tx)
	old, err := q.SSHHostCertLock(ctx, id)
	if err != nil {
		return Certificate{}, pg.NotFoundAs(err, errCertNotFound())
	}
	if old.Status == StatusRevoked {
		return Certificate{}, apperr.Conflict("The certificate is revoked; issue a new one for the host instead.")
	}
	cert, _, _, _, err := ssh.ParseAuthorizedKey([]byte(old.Certificate))
	if err != nil {
		return Certificate{}, fmt.Errorf("parse certificate %s: %w", id, err)
	}
	c, ok := cert.(*ssh.Certificate)
	if !ok {
		return Certificate{}, fmt.Errorf("certificate %s is not a certificate", id)
	}
	out, err := s.signHost(ctx, tx, actor, old.HostID, c.Key, old.Principals, validity, &old)
	if err != nil {
		return Certificate{}, err
	}
	if err := s.queueDelivery(ctx, tx, old.HostID); err != nil {
		return Certificate{}, err
	}
	return out, s.resolveExpiring(ctx, tx, old.ID)
}

// renewAllTx renews, inside tx, every issued certificate of a live host that is still
// valid and not renewed since, with the active host CA key and the same validity.
func (s *Service) renewAllTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal) error {
	now := s.now()
	rows, err := s.q.WithTx(tx).SSHHostCertExpiring(ctx, now.Add(MaxHostCertValidity+24*time.Hour))
	if err != nil {
		return pg.Translate(err)
	}
	for _, r := range rows {
		if !r.ValidBefore.After(now) {
			continue
		}
		validity := min(max(r.ValidBefore.Sub(r.ValidAfter)-backdate, MinCertValidity), MaxHostCertValidity)
		if _, err := s.renewTx(ctx, tx, actor, r.ID, validity.Truncate(time.Second)); err != nil {
			return err
		}
	}
	return nil
}

// resolveExpiring resolves the expiry alerts of certificate id (renewed or revoked).
func (s *Service) resolveExpiring(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	for _, sev := range []string{severityWarning, severityCritical} {
		if _, err := alert.AutoResolveTx(ctx, tx, s.aw, expiryKey(id, sev), s.now()); err != nil {
			return err
		}
	}
	return nil
}

// Revoke revokes certificate id: its serial joins the KRL. Guarded by host:write.
// Errors: resource.not_found, resource.conflict (already revoked).
func (s *Service) Revoke(ctx context.Context, actor *authz.Principal, id uuid.UUID, reason string) (Certificate, error) {
	if len(reason) > 500 {
		return Certificate{}, apperr.Invalid("reason", "reason must be at most 500 characters")
	}
	var out Certificate
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		old, err := q.SSHHostCertLock(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errCertNotFound())
		}
		if old.Status == StatusRevoked {
			return apperr.Conflict("The certificate is already revoked.")
		}
		by := actor.Actor().String()
		var why *string
		if reason != "" {
			why = &reason
		}
		row, err := q.SSHHostCertRevoke(ctx, dbq.SSHHostCertRevokeParams{Now: s.now(), RevokedBy: &by, Reason: why, ID: id})
		if err != nil {
			return pg.Translate(err)
		}
		caKeyID, err := s.caKeyID(ctx, q, row.CaKeyID)
		if err != nil {
			return err
		}
		out = s.describe(row, caKeyID)
		if err := s.resolveExpiring(ctx, tx, id); err != nil {
			return err
		}
		if err := s.queueTrustDelivery(ctx, tx); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostCertRevoked, "host", row.HostID.String(), map[string]any{
			"certificate_id": id.String(), "serial": row.Serial, "fingerprint_sha256": row.FingerprintSha256, "reason": reason,
		}))
	})
	return out, err
}

func (s *Service) caKeyID(ctx context.Context, q *dbq.Queries, id uuid.UUID) (string, error) {
	k, err := q.SSHCAKeyByID(ctx, id)
	return k, pg.Translate(err)
}

// Filter selects certificates.
type Filter struct {
	HostID *uuid.UUID
	Status *string
	// ExpiringWithinDays keeps only issued certificates still valid that expire within
	// this many days.
	ExpiringWithinDays *int
}

// List pages the certificates of live hosts, newest first. Guarded by host:read.
// Errors: resource.not_found (a filter's host), validation (status).
func (s *Service) List(ctx context.Context, f Filter, page cursor.Request[cursor.TimeID]) (cursor.Page[Certificate], error) {
	if f.Status != nil && !slices.Contains([]string{StatusIssued, StatusRevoked, StatusExpired}, *f.Status) {
		return cursor.Page[Certificate]{}, apperr.Invalid("status", "status must be issued, revoked or expired")
	}
	if f.HostID != nil {
		if _, err := s.q.SSHHostNames(ctx, *f.HostID); err != nil {
			return cursor.Page[Certificate]{}, pg.NotFoundAs(err, errHostNotFound())
		}
	}
	now := s.now()
	var expiresBefore *time.Time
	if f.ExpiringWithinDays != nil {
		if *f.ExpiringWithinDays < 1 || *f.ExpiringWithinDays > 825 {
			return cursor.Page[Certificate]{}, apperr.Invalid("expiring_within_days", "expiring_within_days must be between 1 and 825")
		}
		t := now.Add(time.Duration(*f.ExpiringWithinDays) * 24 * time.Hour)
		expiresBefore = &t
	}
	rows, err := s.q.SSHHostCertList(ctx, dbq.SSHHostCertListParams{HostID: f.HostID, Status: f.Status, Now: now,
		ExpiresBefore: expiresBefore, AfterCreated: cursor.AtOrNil(page.After), AfterID: cursor.IDOrNil(page.After),
		Lim: page.Fetch()})
	if err != nil {
		return cursor.Page[Certificate]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(r dbq.SshHostCertificate) cursor.TimeID { return cursor.TimeID{At: r.CreatedAt, ID: r.ID} })
	out := cursor.Page[Certificate]{Items: make([]Certificate, len(cut.Items)), Next: cut.Next}
	names := map[uuid.UUID]string{}
	for i, r := range cut.Items {
		if _, ok := names[r.CaKeyID]; !ok {
			if names[r.CaKeyID], err = s.caKeyID(ctx, s.q, r.CaKeyID); err != nil {
				return cursor.Page[Certificate]{}, err
			}
		}
		out.Items[i] = s.describe(r, names[r.CaKeyID])
	}
	return out, nil
}

// KRL returns the OpenSSH KRL: the serials of the revoked, unexpired host certificates
// (per host CA key) and, as explicitly revoked keys, every retired user CA key whose
// overlap has ended, so that sshd (RevokedKeys) refuses the certificates it signed even
// where its TrustedUserCAKeys still lists it. Guarded by host:read.
func (s *Service) KRL(ctx context.Context) ([]byte, error) {
	now := s.now()
	rows, err := s.q.SSHHostCertRevokedSerials(ctx, now)
	if err != nil {
		return nil, pg.Translate(err)
	}
	var cas []krlCA
	for _, r := range rows {
		if len(cas) == 0 || cas[len(cas)-1].line != r.CaPublicKey {
			pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(r.CaPublicKey))
			if err != nil {
				return nil, fmt.Errorf("parse host CA key: %w", err)
			}
			cas = append(cas, krlCA{line: r.CaPublicKey, key: pub.Marshal()})
		}
		ca := &cas[len(cas)-1]
		ca.serials = append(ca.serials, uint64(r.Serial))
	}
	ended, err := s.q.SSHCAKeyTrustEnded(ctx, dbq.SSHCAKeyTrustEndedParams{Kind: KindUser, Now: now})
	if err != nil {
		return nil, pg.Translate(err)
	}
	keys := make([][]byte, 0, len(ended))
	for _, k := range ended {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("parse user CA key %s: %w", k.KeyID, err)
		}
		keys = append(keys, pub.Marshal())
	}
	// The version is the generation time: it only grows.
	return encodeKRL(uint64(now.Unix()), now, cas, keys), nil
}
