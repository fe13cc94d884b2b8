package rekey

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/report"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sso"
)

// Columns returns every column that holds sealed values, as the packages that seal them
// declare them, in the order Run visits them.
func Columns() []seal.Column {
	return slices.Concat(credential.SealedColumns(), auth.SealedColumns(), audit.SealedColumns(), notify.SealedColumns(),
		sshca.SealedColumns(), sso.SealedColumns(), report.SealedColumns())
}

// Run re-seals every value of every column of Columns under the active key of to: the
// secrets of every SSH credential (deleted ones too), every user's TOTP secret, the
// audit chain's HMAC key, the SSH CA private keys and the single sign-on client secrets. Each value is opened under from with its own associated data
// and sealed again with the same. It runs in one transaction holding the rows' locks, so
// either every value moves to the new key or, on any error (a value that does not open,
// for example), none does. It returns how many values it re-sealed.
//
// Call it with the keyring loaded before seal.Rotate as from and the one Rotate returned
// as to. Processes still running with the old keyring keep sealing new values under the
// old key, so run it with the servers and workers stopped, or run it again after they
// restart.
func Run(ctx context.Context, pool *pgxpool.Pool, from, to *seal.Keyring) (int, error) {
	n := 0
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for _, c := range Columns() {
			rows, err := c.List(ctx, tx)
			if err != nil {
				return fmt.Errorf("list %s: %w", c, pg.Translate(err))
			}
			for _, r := range rows {
				out, err := seal.Reseal(from, to, c.AD(r.ID), r.Sealed)
				if err != nil {
					return err
				}
				if err := c.Set(ctx, tx, seal.Row{ID: r.ID, Sealed: out}); err != nil {
					return fmt.Errorf("store %s of row %s: %w", c, r.ID, pg.Translate(err))
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rekey: %w", err)
	}
	return n, nil
}
