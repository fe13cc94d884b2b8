package seal

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Column declares one database column that holds sealed values. The package that seals
// the column declares it once, builds the associated data of every value it seals or
// opens with its AD, and lists it among its sealed columns; `openwatch rekey` reaches the
// values through List and Set of the same declaration, so the sealer and the rekeyer
// cannot disagree on where a value is bound.
type Column struct {
	// Table and Name say where the values are stored; with a row's id they are the
	// associated data of its value.
	Table, Name string
	// List returns every row holding a value in the column, deleted rows too, and locks
	// them until tx ends.
	List func(ctx context.Context, tx pgx.Tx) ([]Row, error)
	// Set stores row.Sealed as the column's value in row row.ID.
	Set func(ctx context.Context, tx pgx.Tx, row Row) error
}

// Row is one sealed value of a Column: the id of its row and the value.
type Row struct {
	ID     uuid.UUID
	Sealed []byte
}

// AD returns the associated data of the column's value in row id.
func (c Column) AD(id uuid.UUID) AD {
	return AD{Table: c.Table, Column: c.Name, RowID: id.String()}
}

// String returns table.name.
func (c Column) String() string { return c.Table + "." + c.Name }

// Rows converts the result of a List query, whose generated row type has exactly the
// fields of Row, to Rows.
func Rows[T ~struct {
	ID     uuid.UUID
	Sealed []byte
}](rows []T) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = Row(r)
	}
	return out
}
