// Package sshca is OpenWatch's SSH certificate authority: a user CA, whose certificates
// let scans and changes log in with short-lived credentials, and a host CA, whose
// certificates let OpenWatch (and anyone trusting the CA) verify hosts without trust on
// first use. Each CA is an Ed25519 key generated on first use; its private key is sealed
// bound to its row (and resealed by `openwatch rekey`). Rotation makes a new active key
// and keeps the previous one trusted for an overlap. Issued host certificates are
// recorded (serial, host, key, validity, status); revoked ones are served as an OpenSSH
// KRL. Reissuing signs the host's current pinned key and revokes the certificates it
// replaces. A periodic job (expiry_worker.go) raises ssh_certificate_expiring for issued
// certificates close to their end (settings document ssh_certificates: warn_days, default
// 14; critical within three days), or renews them when auto_renew is on; renewing or
// revoking a certificate resolves its alert in the same transaction. Every change is
// audited in its transaction.
package sshca
