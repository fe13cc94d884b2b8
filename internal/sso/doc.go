// Package sso signs people in through OpenID Connect providers (single sign-on).
//
// A provider is configured through the API: issuer, client id and secret (sealed bound to
// its row, never returned), scopes, the claim holding the user's groups, ordered
// group → role mappings, a default role for users no mapping matches (none: such users are
// refused), an enabled flag and "SSO only".
//
// A sign-in is the authorization code flow with PKCE (S256). StartLogin generates a state,
// a nonce and a PKCE key; the login in flight is stored under the SHA-256 of the state with
// the SHA-256 of the nonce, expires after ten minutes and is deleted by the first callback
// that names it, so a state works once. The PKCE verifier is HMAC-SHA256(key, state): the
// row alone (no state) and the browser's URLs alone (no key) cannot rebuild it. The state
// is also set in the openwatch_sso cookie, and the callback requires the cookie to match,
// so a login cannot be completed in a browser other than the one that started it.
//
// The callback exchanges the code (go-oidc and x/oauth2), verifies the ID token's issuer,
// audience, expiry and signature against the provider's JWKS, and compares its nonce. Users
// are linked by (provider, subject). The role comes from the groups claim: the first
// mapping, in the configured order, whose group the user is in wins; no match gives the
// default role; without one the sign-in is refused. Roles are re-mapped at every sign-in
// (the mapped role becomes the user's only role). An unknown subject becomes a new user
// (just in time) with an unusable password, audited as user.created like any other.
//
// The callback then stores the SHA-256 of a random handoff code valid for 60 seconds and
// redirects the browser to the web app's /sso/callback?handoff=<code>; the web app
// exchanges it (ExchangeHandoff) for the same answer as a password sign-in. The exchange
// deletes the code's row (DELETE ... RETURNING), so of concurrent exchanges exactly one
// wins. No token ever travels in a URL. A failure at the callback redirects to
// /sign-in?sso_error=<sentence>, never with internals.
//
// An SSO session does not ask for OpenWatch's one-time code and is not restricted by the
// workspace's MFA requirement: the identity provider is its second factor. A provider
// marked "SSO only" refuses password sign-ins of the users linked to it, except admins,
// who are the break-glass accounts (see auth.Service.Login).
package sso
