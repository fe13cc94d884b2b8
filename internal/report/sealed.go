package report

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// privateKeyColumn is the sealed column of a report signing key: its raw Ed25519 private
// key, bound to the key's row id.
var privateKeyColumn = seal.Column{
	Table: "report_signing_keys", Name: "private_key_sealed",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeyReportSigningKeyList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeyReportSigningKeySet(ctx, dbq.RekeyReportSigningKeySetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// SealedColumns returns the columns in which reports hold sealed values, for the registry
// of internal/rekey.
func SealedColumns() []seal.Column { return []seal.Column{privateKeyColumn} }
