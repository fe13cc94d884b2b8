// Package sshx is OpenWatch's SSH client layer: it dials targets with a key, a
// password or both (credentials only in memory), verifies host keys through a
// caller-supplied verifier, runs a whole job's commands in one SSH session with
// privilege escalation (root login, sudo -n, or an opt-in sudo password sent
// only over stdin), probes SSH banners without credentials, and classifies
// errors into the error_type values of the API.
//
// Every connection goes through a Dialer, which reaches only its allowed
// networks (ssh.allowed_networks in production; loopback in tests, benchmarks
// and development tools) and refuses any other address before a socket is
// opened.
//
// The package is a platform package: it knows nothing about the database or
// the HTTP API. Trust on first use of host keys is implemented by a verifier
// elsewhere; tests use the real OpenSSH server started by package sshtest.
package sshx
