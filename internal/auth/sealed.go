package auth

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// mfaSecretColumn holds a user's sealed TOTP secret. Enrolment, sign-in and `openwatch
// rekey` all bind it to the column's AD of the user id.
var mfaSecretColumn = seal.Column{
	Table: "users", Name: "mfa_secret_sealed",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeyUserMFAList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeyUserMFASet(ctx, dbq.RekeyUserMFASetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// signingKeyColumn holds an API token's sealed signing key (signed requests), bound to the
// token id.
var signingKeyColumn = seal.Column{
	Table: "api_tokens", Name: "signing_key_sealed",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeyAPITokenSigningKeyList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeyAPITokenSigningKeySet(ctx, dbq.RekeyAPITokenSigningKeySetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// SealedColumns returns the columns in which auth holds sealed values, for the registry of
// internal/rekey.
func SealedColumns() []seal.Column { return []seal.Column{mfaSecretColumn, signingKeyColumn} }
