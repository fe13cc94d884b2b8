package vuln

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/pg"
)

// The bulk writes of matching go in with COPY: a first import on a fleet writes millions
// of rows. The columns are those of db/migrations/00037_vulnerabilities.sql.
var (
	exposureColumns    = []string{"host_id", "advisory_id", "package", "release", "installed_version", "binaries", "fixed_version", "first_seen", "updated_at"}
	hostPackageColumns = []string{"host_id", "release", "name", "version", "binaries"}
)

// copyRows writes rows into table with COPY.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	return pg.Translate(err)
}
