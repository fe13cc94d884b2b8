package pg

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// SchemaVersion names the state of the two migration sets Migrate applies: the last
// OpenWatch (goose) migration and the last River migration.
type SchemaVersion struct {
	Schema int64 `json:"schema"`
	River  int   `json:"river"`
}

// NewerThan reports whether v has a migration of either set that o does not.
func (v SchemaVersion) NewerThan(o SchemaVersion) bool {
	return v.Schema > o.Schema || v.River > o.River
}

// String writes v as "schema 41, river 6".
func (v SchemaVersion) String() string {
	return fmt.Sprintf("schema %d, river %d", v.Schema, v.River)
}

// KnownSchemaVersion returns the newest schema this binary can migrate to: the highest
// embedded goose migration and the last River migration compiled in.
func KnownSchemaVersion() (SchemaVersion, error) {
	var v SchemaVersion
	sub, err := migrationFiles()
	if err != nil {
		return v, err
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return v, fmt.Errorf("read embedded migrations: %w", err)
	}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return v, fmt.Errorf("migration %s: no version number", e.Name())
		}
		v.Schema = max(v.Schema, n)
	}
	rm, err := riverMigrator(riverpgxv5.New(nil))
	if err != nil {
		return v, err
	}
	if all := rm.AllVersions(); len(all) > 0 {
		v.River = all[len(all)-1].Version
	}
	return v, nil
}

// CurrentSchemaVersion reads the schema version a database holds, within q's snapshot (a
// transaction's, for a backup). A database never migrated is version 0 of both sets.
func CurrentSchemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (SchemaVersion, error) {
	var v SchemaVersion
	var goose, river bool
	err := q.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL, to_regclass('river_migration') IS NOT NULL`).
		Scan(&goose, &river)
	if err != nil {
		return v, fmt.Errorf("read schema version: %w", Translate(err))
	}
	if goose {
		err := q.QueryRow(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v.Schema)
		if err != nil {
			return v, fmt.Errorf("read schema version: %w", Translate(err))
		}
	}
	if river {
		err := q.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM river_migration WHERE line = 'main'`).Scan(&v.River)
		if err != nil {
			return v, fmt.Errorf("read river schema version: %w", Translate(err))
		}
	}
	return v, nil
}
