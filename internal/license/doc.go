// Package license decides which paid features an OpenWatch installation may use.
//
// A license is a compact JWS (a JWT) signed with Ed25519 (`alg` EdDSA) whose `kid` header
// names one of the trusted public keys. Its claims are:
//
//	iss       "openwatch-licensing"
//	sub       the customer id
//	tier      "free", "openwatch_plus" or "enterprise"
//	features  optional extra features beyond the tier's own
//	exp       expiry (required)
//	nbf, iat  not-before and issue time
//	jti       a unique id
//
// A token is checked in this order, and the first failure names the result: it must be a
// compact JWS of one signature (malformed), with `alg` EdDSA and nothing else, so `none`
// and HMAC tokens are refused (unsupported_alg), naming a trusted key (unknown_kid), whose
// signature verifies (bad_signature); then the issuer (wrong_issuer), the subject, tier,
// features and expiry claims (invalid_claims), `nbf` with one minute of clock skew
// (not_yet_valid) and finally `exp`. Until `exp` a license is active; for a grace period
// after it (14 days unless configured) it still grants its features with status grace
// and a warning; after that it is expired and only the free tier's features remain. A
// warning also appears when fewer than 30 days remain.
//
// Trusted keys are a JWK set of OKP/Ed25519 public keys. A key carrying the member
// "openwatch_previous": true is being rotated out: licenses it signed still verify, but
// their State reports UsingPrevKey and a warning asking for a re-signed license. The
// product's built-in set, DefaultTrustedKeys, is empty until the vendor's key set ships;
// the `[license] trusted_keys_file` setting adds keys read with ParseTrustedKeys.
//
// The Manager holds the installation's current State, read from the license file at start
// and again on every Reload (the server calls it on SIGHUP). Readers never take a lock:
// the State lives behind an atomic pointer and is re-derived, without repeating the
// signature check, when the clock crosses one of its boundaries (expiry, end of grace).
// A missing, unreadable or invalid file never stops the server; it leaves the free tier.
//
// Mint signs licenses. It exists for tests and for the vendor's licensing tooling; the
// server never calls it.
package license
