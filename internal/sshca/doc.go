// Package sshca is OpenWatch's SSH certificate authority: a user CA, whose certificates
// let scans and changes log in with short-lived credentials, and a host CA, whose
// certificates let OpenWatch (and anyone trusting the CA) verify hosts without trust on
// first use. Each CA is an Ed25519 key generated on first use; its private key is sealed
// bound to its row (and resealed by `openwatch rekey`). Rotation makes a new active key
// and keeps the previous one trusted for an overlap. Issued host certificates are
// recorded (serial, host, key, validity, status); revoked ones are served as an OpenSSH
// KRL. Every change is audited in its transaction.
package sshca
