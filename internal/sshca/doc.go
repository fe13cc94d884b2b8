// Package sshca is OpenWatch's SSH certificate authority: a user CA, whose certificates
// let scans and changes log in with short-lived credentials, and a host CA, whose
// certificates let OpenWatch (and anyone trusting the CA) verify hosts without trust on
// first use. Each CA is an Ed25519 key generated on first use; its private key is sealed
// bound to its row (and resealed by `openwatch rekey`). Rotation makes a new active key
// and keeps the previous one trusted for an overlap. Issued host certificates are
// recorded (serial, host, key, validity, status); revoked ones are served as an OpenSSH
// KRL, together with every retired user CA key whose overlap has ended (explicit-key
// section), so sshd refuses the user certificates that key signed. Reissuing signs the
// host's current pinned key and revokes the certificates it replaces. User certificates
// for logins are signed by every user CA key trusted now (SignUserCerts), so a host not yet
// given a rotated key still accepts one. Hosts get OpenWatch's files in one layout
// (layout.go), written by the enrollment script and rewritten by delivery
// (delivery_worker.go): the trusted user CA keys, the KRL, the host certificate and the
// drop-in naming them; issuing, revoking and user CA rotations (now and at the end of the
// overlap, a scheduled job) queue deliveries to the hosts with an issued certificate or a
// certificate credential. A periodic job (expiry_worker.go) raises ssh_certificate_expiring for issued
// certificates close to their end (settings document ssh_certificates: warn_days, default
// 14; critical within three days), or renews them when auto_renew is on; renewing or
// revoking a certificate resolves its alert in the same transaction. Every change is
// audited in its transaction.
package sshca
