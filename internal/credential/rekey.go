package credential

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// RekeyAll re-seals every sealed value the product stores under the active key of to:
// the secrets of every SSH credential (deleted ones too), every user's TOTP secret and the
// audit chain's HMAC key. Each value is opened under from with its own associated data
// and sealed again with the same. It runs in one transaction holding the rows' locks, so
// either every value moves to the new key or, on any error (a value that does not open,
// for example), none does. It returns how many values it re-sealed.
//
// It is the core of `openwatch rekey`: call it with the keyring loaded before
// seal.Rotate as from and the one Rotate returned as to. Processes still running with the
// old keyring keep sealing new values under the old key, so run it with the servers and
// workers stopped, or run it again after they restart.
func RekeyAll(ctx context.Context, pool *pgxpool.Pool, from, to *seal.Keyring) (int, error) {
	n := 0
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		reseal := func(v seal.Sealed) ([]byte, error) {
			if v.Ciphertext == nil {
				return nil, nil
			}
			out, err := seal.Reseal(from, to, v.AD(), v.Ciphertext)
			if err != nil {
				return nil, err
			}
			n++
			return out, nil
		}

		creds, err := q.RekeyCredentialList(ctx)
		if err != nil {
			return fmt.Errorf("list credentials: %w", pg.Translate(err))
		}
		for _, c := range creds {
			id := c.ID.String()
			p := dbq.RekeyCredentialSetParams{ID: c.ID}
			for _, v := range []struct {
				column string
				ct     []byte
				dst    *[]byte
			}{
				{columnPrivateKey, c.PrivateKeySealed, &p.PrivateKeySealed},
				{columnPassphrase, c.PassphraseSealed, &p.PassphraseSealed},
				{columnPassword, c.PasswordSealed, &p.PasswordSealed},
			} {
				if *v.dst, err = reseal(seal.Sealed{Table: table, Column: v.column, RowID: id, Ciphertext: v.ct}); err != nil {
					return err
				}
			}
			if err := q.RekeyCredentialSet(ctx, p); err != nil {
				return fmt.Errorf("store credential %s: %w", id, pg.Translate(err))
			}
		}

		users, err := q.RekeyUserMFAList(ctx)
		if err != nil {
			return fmt.Errorf("list user TOTP secrets: %w", pg.Translate(err))
		}
		for _, u := range users {
			// The AD of internal/auth's mfaAD.
			ct, err := reseal(seal.Sealed{Table: "users", Column: "mfa_secret_sealed", RowID: u.ID.String(), Ciphertext: u.MfaSecretSealed})
			if err != nil {
				return err
			}
			if err := q.RekeyUserMFASet(ctx, dbq.RekeyUserMFASetParams{ID: u.ID, Sealed: ct}); err != nil {
				return fmt.Errorf("store TOTP secret of user %s: %w", u.ID, pg.Translate(err))
			}
		}

		keys, err := q.RekeyAuditKeyList(ctx)
		if err != nil {
			return fmt.Errorf("list audit keys: %w", pg.Translate(err))
		}
		for _, k := range keys {
			// The AD of internal/audit's keyAD.
			ct, err := reseal(seal.Sealed{Table: "audit_keys", Column: "sealed_key", RowID: k.ID.String(), Ciphertext: k.SealedKey})
			if err != nil {
				return err
			}
			if err := q.RekeyAuditKeySet(ctx, dbq.RekeyAuditKeySetParams{ID: k.ID, Sealed: ct}); err != nil {
				return fmt.Errorf("store audit key %s: %w", k.ID, pg.Translate(err))
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rekey: %w", err)
	}
	return n, nil
}
