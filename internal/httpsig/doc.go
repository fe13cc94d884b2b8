// Package httpsig implements the subset of RFC 9421 (HTTP Message Signatures) that
// OpenWatch's signed requests use: an `hmac-sha256` signature labelled `ow` over derived
// components (`@method`, `@target-uri`, `@authority`, `@scheme`, `@path`, `@query`,
// `@request-target`) and header fields, with `Content-Digest` (RFC 9530, sha-256) binding
// the body. The server verifies with Parse, Base and Verify; clients sign with Signer.
package httpsig
