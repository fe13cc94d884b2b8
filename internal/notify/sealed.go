package notify

import (
	"context"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/seal"
)

// secretColumn is the sealed column of a channel: its webhook secret or SMTP password,
// bound to the channel id.
var secretColumn = seal.Column{
	Table: "notification_channels", Name: "secret_sealed",
	List: func(ctx context.Context, tx pgx.Tx) ([]seal.Row, error) {
		rows, err := dbq.New(tx).RekeyNotifyChannelSecretList(ctx)
		return seal.Rows(rows), err
	},
	Set: func(ctx context.Context, tx pgx.Tx, r seal.Row) error {
		return dbq.New(tx).RekeyNotifyChannelSecretSet(ctx, dbq.RekeyNotifyChannelSecretSetParams{ID: r.ID, Sealed: r.Sealed})
	},
}

// SealedColumns returns the columns in which channels hold sealed values, for the
// registry of internal/rekey.
func SealedColumns() []seal.Column { return []seal.Column{secretColumn} }
