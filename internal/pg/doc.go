// Package pg is OpenWatch's PostgreSQL platform package: it builds the connection pool,
// runs transactions, applies migrations (goose for the product schema, rivermigrate for
// River's job tables) and is the one place where driver errors become apperr values.
//
// Invariants:
//   - No package above this one imports pgconn. Services pass every error that may come
//     from the driver through Translate (WithTx does it for them).
//   - Migrations are applied under a PostgreSQL advisory lock, so any number of processes
//     may call Migrate at start-up at the same time.
//   - OpenWatch needs PostgreSQL 13 or newer; Migrate refuses older servers.
//
// Subpackages: cluster runs the embedded default database when no DSN is configured, and
// pgtest gives tests fresh, migrated databases.
package pg
