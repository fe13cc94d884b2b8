// Package db embeds the SQL that defines the database: goose migrations, which the binary
// applies with `openwatch migrate` (and on start-up), and the sqlc query files that
// generate gen/db.
package db

import "embed"

// Migrations holds the goose migrations, at migrations/*.sql.
//
//go:embed migrations/*.sql
var Migrations embed.FS
