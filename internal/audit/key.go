package audit

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// Sealer encrypts the HMAC key at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// LoadOrCreateKey returns the chain's HMAC key, creating it on first start: KeySize random
// bytes stored sealed in audit_keys, with the empty chain's checkpoint signed in the same
// transaction. Processes starting at once take turns on the chain head's lock, so they all
// get the same key. A key that does not open under sealer (another key file) is an error.
func LoadOrCreateKey(ctx context.Context, pool *pgxpool.Pool, sealer Sealer) ([]byte, error) {
	q := dbq.New(pool)
	if row, err := q.AuditKeyGet(ctx); err == nil {
		return openKey(sealer, row)
	} else if err = pg.IgnoreNotFound(err); err != nil {
		return nil, fmt.Errorf("read audit key: %w", err)
	}

	var key []byte
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		q := q.WithTx(tx)
		if _, err := q.AuditHeadLock(ctx); err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		row, err := q.AuditKeyGet(ctx)
		if err == nil {
			// Another process created it while this one waited for the lock.
			key, err = openKey(sealer, row)
			return err
		}
		if err = pg.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("read audit key: %w", err)
		}
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("generate audit key: %w", err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("generate audit key id: %w", err)
		}
		sealed, err := sealer.Seal(key, keyColumn.AD(id))
		if err != nil {
			return fmt.Errorf("seal audit key: %w", err)
		}
		if err := q.AuditKeyInsert(ctx, dbq.AuditKeyInsertParams{ID: id, SealedKey: sealed}); err != nil {
			return fmt.Errorf("store audit key: %w", err)
		}
		if _, err := q.AuditHeadSignEmpty(ctx, checkpointMAC(key, 0, genesisMAC)); err != nil {
			return fmt.Errorf("sign empty audit chain: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

func openKey(sealer Sealer, row dbq.AuditKeyGetRow) ([]byte, error) {
	key, err := sealer.Open(row.SealedKey, keyColumn.AD(row.ID))
	if err != nil {
		return nil, fmt.Errorf("open audit key %s (is this the key file the database was set up with?): %w", row.ID, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("audit key %s is %d bytes, want %d", row.ID, len(key), KeySize)
	}
	return key, nil
}
