// Package seal encrypts secrets stored at rest (SSH keys, passwords, TOTP seeds, webhook,
// SMTP and OIDC secrets, the audit HMAC key) with AES-256-GCM under keys held in a local
// key file.
//
// The key file is JSON, mode 0600, holding any number of 256-bit keys of which one is
// active:
//
//	{"version":1,"active":"<kid>","keys":{"<kid>":"<base64 key>", ...}}
//
// Seal always uses the active key; Open uses whichever key the sealed value names, so a
// later `openwatch rekey` can add a key, make it active, re-seal every value and only then
// drop the old key. LoadOrCreate writes a file with one random key on first start and
// refuses a file that group or others may read or write.
//
// A sealed value is
//
//	"ow1:" <kid> ":" <12-byte random nonce> <ciphertext and 16-byte GCM tag>
//
// The header is text so a value's key id is easy to spot in a database dump; the rest is
// binary. The GCM associated data binds the value to the format version, its key id and
// where it is stored (AD: table, column and row id, each length-prefixed so no two
// different ADs encode alike), so a value copied into another row, column or table does not
// open. Open never panics: malformed input, an unknown key id, a wrong AD and any
// tampering are errors (ErrMalformed, ErrUnknownKey, ErrNotAuthentic).
//
// Every column holding sealed values is declared once, as a Column, by the package that
// seals it: that package takes each value's AD from the Column, and internal/rekey reads
// the same declarations to list and re-seal the values, so the two cannot disagree.
package seal
