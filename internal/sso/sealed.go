package sso

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// secretColumn is the sealed column of a provider: its OAuth client secret, bound to the
// provider's row id.
var secretColumn = seal.Column{
	Table: "sso_providers", Name: "client_secret_sealed",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeySSOProviderSecretList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeySSOProviderSecretSet(ctx, dbq.RekeySSOProviderSecretSetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// SealedColumns returns the columns in which the package holds sealed values, for the
// registry of internal/rekey.
func SealedColumns() []seal.Column { return []seal.Column{secretColumn} }
