// Package tlscert provides the server's TLS certificate: it generates a local
// certificate authority and a server certificate when none is configured, and
// serves a certificate pair that it reloads from disk when the files change.
//
// Ensure keeps <data_dir>/tls populated: a long-lived ECDSA P-256 CA that
// operators can add to their trust stores once, and a server certificate
// signed by it that Ensure renews when it nears expiry or lacks a wanted
// name. Private keys are written 0600, and an existing key that group or
// others can read is refused rather than used. Every file is replaced by
// rename, so a reader sees either the old file or the new one, never half of
// one.
//
// Reloader serves whatever pair is on disk, operator-provided or generated.
// It is called for every TLS handshake, so its fast path is one clock read
// and two atomic loads; at most once per second one handshake also stats the
// two files, and only a changed file is read and parsed again. A pair that
// fails to parse is logged and the previous certificate stays in service.
package tlscert
