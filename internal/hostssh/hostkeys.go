package hostssh

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// KeyMismatchError says a host presented a key other than its trusted one. It wraps
// sshx.ErrHostKeyChanged.
type KeyMismatchError struct {
	HostID    uuid.UUID
	Presented string // fingerprint of the presented key
	Trusted   string // fingerprint of the trusted key
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("host %s presented host key %s, trusted is %s", e.HostID, e.Presented, e.Trusted)
}

// Unwrap makes errors.Is(err, sshx.ErrHostKeyChanged) true.
func (e *KeyMismatchError) Unwrap() error { return sshx.ErrHostKeyChanged }

// AuthorizedKey renders key in authorized_keys format without the line ending.
func AuthorizedKey(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// hostVerifier verifies the keys of one host for sshx.Dialer.Dial and remembers a failure of its
// own (the database), which is not the host's fault.
type hostVerifier struct {
	c       *Connector
	hostID  uuid.UUID
	failure error
}

// VerifyHostKey implements sshx.HostKeyVerifier.
func (v *hostVerifier) VerifyHostKey(ctx context.Context, _ string, key ssh.PublicKey) error {
	err := v.c.verifyKey(ctx, v.hostID, key)
	var mm *KeyMismatchError
	if err != nil && !errors.As(err, &mm) {
		v.failure = err
	}
	return err
}

// verifyKey accepts key when it is the host's trusted key, or trusts it when the host has
// none; otherwise it records key as the host's pending key and returns a
// *KeyMismatchError. The common case (the trusted key again) is one statement.
func (c *Connector) verifyKey(ctx context.Context, hostID uuid.UUID, key ssh.PublicKey) error {
	fp := sshx.Fingerprint(key)
	_, err := c.q.HostSSHKeySeen(ctx, dbq.HostSSHKeySeenParams{HostID: hostID, FingerprintSha256: fp})
	if err == nil {
		return nil
	}
	if err = pg.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("verify host key: %w", err)
	}
	var mismatch error
	err = pg.WithTx(ctx, c.pool, func(tx pgx.Tx) error {
		mismatch = nil
		return c.verifyKeyTx(ctx, tx, hostID, key, fp, &mismatch)
	})
	if err != nil {
		return fmt.Errorf("verify host key: %w", err)
	}
	return mismatch
}

// verifyKeyTx is the slow path of verifyKey: trust on first use, or record a pending key.
func (c *Connector) verifyKeyTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, key ssh.PublicKey, fp string, mismatch *error) error {
	q := c.q.WithTx(tx)
	pub := AuthorizedKey(key)
	_, err := q.HostSSHKeyTrustFirst(ctx, dbq.HostSSHKeyTrustFirstParams{
		ID: uuid.Must(uuid.NewV7()), HostID: hostID, KeyType: key.Type(), FingerprintSha256: fp, PublicKey: pub,
	})
	if err == nil {
		return c.aw.Append(ctx, tx, systemEvent(ctx, audit.ActionHostKeyTrusted, hostID,
			map[string]any{"key_type": key.Type(), "fingerprint_sha256": fp}))
	}
	if err = pg.IgnoreNotFound(err); err != nil {
		return err
	}
	// Another connection trusted a key first (or earlier): compare with it.
	trusted, err := q.HostSSHKeyTrusted(ctx, hostID)
	if err != nil {
		return pg.Translate(err)
	}
	if trusted.FingerprintSha256 == fp {
		return nil
	}
	isNew, err := q.HostSSHKeyPutPending(ctx, dbq.HostSSHKeyPutPendingParams{
		ID: uuid.Must(uuid.NewV7()), HostID: hostID, KeyType: key.Type(), FingerprintSha256: fp, PublicKey: pub,
	})
	if err != nil {
		return pg.Translate(err)
	}
	*mismatch = &KeyMismatchError{HostID: hostID, Presented: fp, Trusted: trusted.FingerprintSha256}
	if !isNew {
		return nil
	}
	return c.aw.Append(ctx, tx, systemEvent(ctx, audit.ActionHostKeyRejected, hostID, map[string]any{
		"key_type": key.Type(), "fingerprint_sha256": fp, "trusted_fingerprint_sha256": trusted.FingerprintSha256,
	}))
}

// systemEvent is an audit event whose actor is the system, even inside a request.
func systemEvent(ctx context.Context, action audit.Action, hostID uuid.UUID, detail map[string]any) audit.Event {
	ev := audit.For(ctx, nil, action, "host", hostID.String(), detail)
	ev.ActorType, ev.ActorID = audit.ActorSystem, ""
	return ev
}
