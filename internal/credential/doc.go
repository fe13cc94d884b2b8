// Package credential is the SSH credential vault: the user names, passwords and private
// keys OpenWatch uses to reach hosts, scoped to the whole system or to one host.
//
// Invariants:
//
//   - Secret material (private key, its passphrase, password) is sealed (internal/seal)
//     before it reaches the database, each value bound by associated data to
//     {ssh_credentials, <column>, <credential id>}: a ciphertext copied into another row or
//     column does not open. Clone re-seals for the new row; the plaintext never leaves the
//     server.
//   - Secrets appear in no returned Credential or Resolution, error message, log line or
//     audit detail. Only Secret returns them, for the SSH layer; it is never exposed by the
//     API. Key parse errors never quote the key or the passphrase.
//   - Private keys are parsed on create and update (RSA, ECDSA or Ed25519, in OpenSSH,
//     PKCS#1, PKCS#8 or SEC 1 PEM, optionally encrypted); their type, size, SHA-256
//     fingerprint (as ssh-keygen prints it) and comment (unencrypted OpenSSH keys only: an
//     encrypted key hides it) are stored in clear.
//   - Each auth method holds exactly the secrets it uses: ssh_key a key (and optional
//     passphrase), password a password, both both, certificate none (the SSH layer mints
//     a short-lived user certificate for the username per connection). Switching method
//     drops the secrets the new one does not use.
//   - At most one live system credential is the default: setting a new default takes the
//     flag from the old one in the same transaction, and a partial unique index turns a
//     racing second default into a Conflict.
//   - A host's effective credential (Resolve) is its newest active, live host-scoped
//     credential, else the active system default.
//   - Deletion is soft (deleted_at set, is_active false); every mutation appends its audit
//     event in its own transaction.
//   - The sealed columns are declared once, in sealed.go: sealing and opening take each
//     value's associated data from its seal.Column, and SealedColumns hands the same
//     declarations to internal/rekey, which re-seals them under a new key.
package credential
