package hostkey

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/settings"
)

// Service manages host key trust and the SSH settings.
type Service struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	aw   *audit.Writer
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer) *Service {
	return &Service{pool: pool, q: dbq.New(pool), aw: aw}
}

func errHostNotFound() error { return apperr.NotFound("The host does not exist.") }

// checkHost fails with resource.not_found unless hostID is a live host.
func checkHost(ctx context.Context, q *dbq.Queries, hostID uuid.UUID) error {
	ok, err := q.HostSSHHostExists(ctx, hostID)
	if err != nil {
		return pg.Translate(err)
	}
	if !ok {
		return errHostNotFound()
	}
	return nil
}

// Keys returns a live host's keys, the trusted one first.
func (s *Service) Keys(ctx context.Context, hostID uuid.UUID) ([]dbq.HostSshKey, error) {
	if err := checkHost(ctx, s.q, hostID); err != nil {
		return nil, err
	}
	rows, err := s.q.HostSSHKeyList(ctx, hostID)
	return rows, pg.Translate(err)
}

// Approve makes the host's pending key with the given fingerprint its trusted key,
// removing the previously trusted one, and returns the keys after the change. Errors:
// resource.not_found (host), resource.conflict (no pending key has that fingerprint).
func (s *Service) Approve(ctx context.Context, actor *authz.Principal, hostID uuid.UUID, fingerprint string) ([]dbq.HostSshKey, error) {
	var out []dbq.HostSshKey
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := checkHost(ctx, q, hostID); err != nil {
			return err
		}
		pending, err := q.HostSSHKeyPendingLock(ctx, dbq.HostSSHKeyPendingLockParams{HostID: hostID, FingerprintSha256: fingerprint})
		if err != nil {
			return pg.NotFoundAs(err, apperr.Conflict("The host has no pending host key with that fingerprint.").
				WithDetail("fingerprint_sha256", fingerprint))
		}
		previous, err := q.HostSSHKeyDeleteTrusted(ctx, hostID)
		if err != nil {
			return pg.Translate(err)
		}
		by := actor.Actor().String()
		if err := q.HostSSHKeyApprove(ctx, dbq.HostSSHKeyApproveParams{ID: pending.ID, ApprovedBy: &by}); err != nil {
			return pg.Translate(err)
		}
		if out, err = q.HostSSHKeyList(ctx, hostID); err != nil {
			return pg.Translate(err)
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostKeyApproved, "host", hostID.String(), map[string]any{
			"key_type": pending.KeyType, "fingerprint_sha256": fingerprint, "previous_fingerprints": nonNil(previous),
		}))
	})
	return out, err
}

// Reset forgets every key of the host: the next connection trusts the key it is shown.
func (s *Service) Reset(ctx context.Context, actor *authz.Principal, hostID uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := checkHost(ctx, q, hostID); err != nil {
			return err
		}
		removed, err := q.HostSSHKeyDeleteAll(ctx, hostID)
		if err != nil {
			return pg.Translate(err)
		}
		gone := make([]map[string]any, 0, len(removed))
		for _, r := range removed {
			gone = append(gone, map[string]any{"fingerprint_sha256": r.FingerprintSha256, "status": r.Status})
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostKeysReset, "host", hostID.String(),
			map[string]any{"removed": gone}))
	})
}

// Config returns the SSH settings.
func (s *Service) Config(ctx context.Context) (hostssh.Config, error) {
	return hostssh.LoadConfig(ctx, s.pool)
}

// SetConfig validates and stores the SSH settings, auditing the values before and after.
func (s *Service) SetConfig(ctx context.Context, actor *authz.Principal, cfg hostssh.Config) (hostssh.Config, error) {
	if err := cfg.Validate(); err != nil {
		return hostssh.Config{}, err
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := hostssh.LoadConfig(ctx, tx)
		if err != nil {
			return err
		}
		if err := settings.Save(ctx, tx, hostssh.SettingsKey, cfg, actor); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSHConfigChanged, "settings", hostssh.SettingsKey,
			map[string]any{"fields": configDiff(before, cfg)}))
	})
	if err != nil {
		return hostssh.Config{}, err
	}
	return cfg, nil
}

// configDiff lists every setting with its value before and after. The values are keyed
// by "field" rather than by the setting's name: the audit trail redacts values under
// password-like keys, and allow_sudo_password is a flag, not a secret.
func configDiff(before, after hostssh.Config) []map[string]any {
	row := func(field string, b, a any) map[string]any {
		return map[string]any{"field": field, "before": b, "after": a}
	}
	return []map[string]any{
		row("allow_sudo_password", before.AllowSudoPassword, after.AllowSudoPassword),
		row("dial_timeout_sec", before.DialTimeoutSec, after.DialTimeoutSec),
		row("command_timeout_sec", before.CommandTimeoutSec, after.CommandTimeoutSec),
	}
}

// approver names who approved a key.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
