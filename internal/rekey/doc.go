// Package rekey re-seals every sealed value the product stores under a new key: the core
// of `openwatch rekey`.
//
// Columns is the registry of sealed columns. It holds no list of its own: it reads the
// declarations of the packages that seal values (credential, auth, audit), each of which
// builds the associated data of its values from the same seal.Column that Run uses to list
// and rewrite them, so the sealer and the rekeyer cannot drift apart. A test walks the
// migrated schema and fails on a bytea column, or a column named like a sealed one, that
// is neither in the registry nor classified as holding no sealed value.
package rekey
