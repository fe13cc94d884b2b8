// Package backup writes and restores OpenWatch backups: one tar archive (optionally
// gzip-compressed) holding a PostgreSQL dump of the database (pg_dump's custom format), the
// key files the database is useless without, and a manifest.
//
// Invariants:
//   - The dump is one consistent snapshot: a read-only repeatable-read transaction exports
//     its snapshot, pg_dump reads the database through it, and the manifest's schema
//     version and database identity are read in that same transaction. A backup therefore
//     works while serve and workers run.
//   - Key files are read once, into memory, before anything is written to the archive.
//   - The manifest (manifest.json, the archive's first entry) names every other entry with
//     its role, size and SHA-256; an entry it does not name, or a missing one, makes the
//     archive invalid.
//   - Restore reads the whole archive and checks every size and checksum and the schema
//     version before it changes anything; the dump is then restored in one transaction
//     (pg_restore --single-transaction), so a failure leaves the database as it was.
//   - Restore never writes over a database holding tables, or over a key file with other
//     content, unless forced.
//   - Archives and restored key files are created with mode 0600: they hold the secrets key
//     that opens every sealed secret in the dump.
package backup
