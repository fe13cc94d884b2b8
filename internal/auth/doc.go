// Package auth signs people in and turns every credential a request carries into an
// authz.Principal.
//
// A sign-in creates a server-side session row. The caller gets three secrets bound to it:
// a short-lived access token (an EdDSA-signed JWT whose `sid` claim names the session),
// a refresh token, and, for browsers, the openwatch_session cookie (`<session id>.<secret>`).
// Only SHA-256 digests of the refresh token and cookie secret are stored. Every request
// checks that the session is live and its user enabled; the check is served from a cache
// that other processes invalidate through PostgreSQL LISTEN/NOTIFY on the channel
// openwatch_auth, and that is bypassed while the listener is down.
//
// Passwords are hashed with Argon2id. Unknown usernames cost the same as wrong passwords.
package auth
