package audit

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// keyColumn holds the chain's sealed HMAC key. LoadOrCreateKey and `openwatch rekey` both
// bind it to the column's AD of the key's row id.
var keyColumn = seal.Column{
	Table: "audit_keys", Name: "sealed_key",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeyAuditKeyList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeyAuditKeySet(ctx, dbq.RekeyAuditKeySetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// SealedColumns returns the columns in which the audit trail holds sealed values, for the
// registry of internal/rekey.
func SealedColumns() []seal.Column { return []seal.Column{keyColumn} }
