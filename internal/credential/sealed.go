package credential

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// table is where credentials are stored.
const table = "ssh_credentials"

// The sealed columns of a credential. Seal, open and `openwatch rekey` all bind a value to
// its column's AD of the credential id.
var (
	privateKeyColumn = seal.Column{
		Table: table, Name: "private_key_sealed",
		List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
			rows, err := dbq.New(tx).RekeyCredentialPrivateKeyList(ctx)
			return seal.Rows(rows), err
		},
		Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
			return dbq.New(tx).RekeyCredentialPrivateKeySet(ctx, dbq.RekeyCredentialPrivateKeySetParams{ID: r.ID, Sealed: r.Sealed})
		},
	}
	passphraseColumn = seal.Column{
		Table: table, Name: "passphrase_sealed",
		List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
			rows, err := dbq.New(tx).RekeyCredentialPassphraseList(ctx)
			return seal.Rows(rows), err
		},
		Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
			return dbq.New(tx).RekeyCredentialPassphraseSet(ctx, dbq.RekeyCredentialPassphraseSetParams{ID: r.ID, Sealed: r.Sealed})
		},
	}
	passwordColumn = seal.Column{
		Table: table, Name: "password_sealed",
		List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
			rows, err := dbq.New(tx).RekeyCredentialPasswordList(ctx)
			return seal.Rows(rows), err
		},
		Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
			return dbq.New(tx).RekeyCredentialPasswordSet(ctx, dbq.RekeyCredentialPasswordSetParams{ID: r.ID, Sealed: r.Sealed})
		},
	}
)

// SealedColumns returns the columns in which credentials hold sealed values, for the
// registry of internal/rekey.
func SealedColumns() []seal.Column {
	return []seal.Column{privateKeyColumn, passphraseColumn, passwordColumn}
}
