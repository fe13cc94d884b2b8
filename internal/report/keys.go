package report

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Key is a report signing key as listed.
type Key struct {
	KeyID     string
	Public    ed25519.PublicKey
	CreatedAt time.Time
	RetiredAt *time.Time
}

var errNoRow = errors.New("no row")

// activeKey returns the active signing key, creating it on first use.
func (s *Service) activeKey(ctx context.Context, q *dbq.Queries) (dbq.ReportSigningKey, error) {
	row, err := q.ReportSigningKeyActive(ctx)
	if err = pg.NotFoundAs(err, errNoRow); !errors.Is(err, errNoRow) {
		return row, err
	}
	if _, err := s.createKey(ctx, q); err != nil && !errors.Is(err, errNoRow) {
		return dbq.ReportSigningKey{}, err
	}
	// Created here or by a concurrent first use.
	row, err = q.ReportSigningKeyActive(ctx)
	return row, pg.Translate(err)
}

// createKey generates a key and inserts it as active; errNoRow when another one is active.
func (s *Service) createKey(ctx context.Context, q *dbq.Queries) (dbq.ReportSigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return dbq.ReportSigningKey{}, fmt.Errorf("generate report signing key: %w", err)
	}
	id := uuid.Must(uuid.NewV7())
	sealed, err := s.sealer.Seal(priv, privateKeyColumn.AD(id))
	if err != nil {
		return dbq.ReportSigningKey{}, fmt.Errorf("seal report signing key: %w", err)
	}
	row, err := q.ReportSigningKeyInsert(ctx, dbq.ReportSigningKeyInsertParams{ID: id, KeyID: KeyID(pub),
		PublicKey: base64.StdEncoding.EncodeToString(pub), PrivateKeySealed: sealed, CreatedAt: s.now()})
	return row, pg.NotFoundAs(err, errNoRow)
}

// signer opens the private key of a key row.
func (s *Service) signer(row dbq.ReportSigningKey) (Signer, error) {
	raw, err := s.sealer.Open(row.PrivateKeySealed, privateKeyColumn.AD(row.ID))
	if err != nil {
		return Signer{}, fmt.Errorf("open report signing key %s: %w", row.KeyID, err)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return Signer{}, fmt.Errorf("report signing key %s: not an Ed25519 private key", row.KeyID)
	}
	sg := NewSigner(ed25519.PrivateKey(raw))
	if sg.KeyID != row.KeyID {
		return Signer{}, fmt.Errorf("report signing key %s: the private key does not match the key id", row.KeyID)
	}
	return sg, nil
}

// signerByKeyID returns the signer of a key, active or retired.
func (s *Service) signerByKeyID(ctx context.Context, keyID string) (Signer, error) {
	rows, err := s.q.ReportSigningKeyList(ctx)
	if err != nil {
		return Signer{}, pg.Translate(err)
	}
	for _, r := range rows {
		if r.KeyID == keyID {
			return s.signer(r)
		}
	}
	return Signer{}, fmt.Errorf("report signing key %s is missing", keyID)
}

// Keys returns every signing key, the active one first (creating it on first use).
// Guarded by report:read.
func (s *Service) Keys(ctx context.Context) ([]Key, error) {
	if _, err := s.activeKey(ctx, s.q); err != nil {
		return nil, err
	}
	return s.keys(ctx, s.q)
}

func (s *Service) keys(ctx context.Context, q *dbq.Queries) ([]Key, error) {
	rows, err := q.ReportSigningKeyList(ctx)
	if err != nil {
		return nil, pg.Translate(err)
	}
	out := make([]Key, 0, len(rows))
	for _, r := range rows {
		pub, err := base64.StdEncoding.DecodeString(r.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("report signing key %s: stored public key is not Ed25519", r.KeyID)
		}
		out = append(out, Key{KeyID: r.KeyID, Public: pub, CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt})
	}
	return out, nil
}

// RotateKey retires the active signing key (kept, so what it signed still verifies) and
// generates the next. Guarded by report:signing_key; audited.
func (s *Service) RotateKey(ctx context.Context, actor *authz.Principal) ([]Key, error) {
	var out []Key
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if _, err := s.activeKey(ctx, q); err != nil {
			return err
		}
		prev, err := q.ReportSigningKeyActiveLock(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		now := s.now()
		if err := q.ReportSigningKeyRetire(ctx, dbq.ReportSigningKeyRetireParams{RetiredAt: &now, ID: prev.ID}); err != nil {
			return pg.Translate(err)
		}
		next, err := s.createKey(ctx, q)
		if err != nil {
			return err
		}
		if out, err = s.keys(ctx, q); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionReportSigningKeyRotated, "report_signing_key", next.KeyID,
			map[string]any{"previous_key_id": prev.KeyID, "key_id": next.KeyID}))
	})
	return out, err
}
