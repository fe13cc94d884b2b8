// Package hostssh connects to inventory hosts over SSH: it joins the host's address, its
// resolved credential, the "ssh" runtime settings and the host's learned privilege mode,
// and dials through internal/sshx with a database-backed host key verifier: trust on
// first use, or verification against the host CA for hosts with a host certificate.
//
// Invariants:
//   - A host has at most one trusted key and at most one pending key. The first key a
//     host presents is trusted (audited as host.key_trusted by the system); a different
//     key later is stored as pending and the connection fails closed with
//     host.key_mismatch until an operator approves the pending key or resets the host's
//     keys (package hostkey). Two processes contacting a new host at once agree on one
//     trusted key through a partial unique index.
//   - A host with a host certificate on record (issued, renewed, enrolled, even revoked
//     since) is verified against the host CA: the client asks only for certificate host
//     key algorithms and accepts only a host certificate signed by a host CA key trusted
//     now, valid now, naming the host's name or address, not revoked, for the host's
//     pinned key. Anything else fails closed (host.certificate_invalid or
//     host.certificate_revoked with detail.reason); there is no fallback to trust on first
//     use.
//   - A certificate credential stores no secret: each connection mints a fresh Ed25519
//     key in memory and a user certificate for the login name from every user CA key
//     trusted now (the active key first, then those in their rotation overlap: one
//     public-key attempt each), valid for UserCertValidity, limited to the connection's
//     local address (source-address), with no extensions. Neither is stored; minting is
//     logged at debug level only.
//   - The privilege mode a batch learned (root, sudo, sudo_password, none) is stored per
//     host and given to the next batch as a hint.
//   - Secrets are only held in memory for the life of a connection; a sudo password is
//     handed to sshx only when the allow_sudo_password setting is on.
package hostssh
