// Package httpserver is the HTTP edge of OpenWatch: the Echo instance, the request
// pipeline and the one writer of the error envelope.
//
// Every request passes, in order: correlation id → access log → panic recovery → body
// limit → routing. Each API operation then gets its own chain, built once at start-up from
// the operation table (authz.Operations): authentication and permission check → request
// validation against the embedded spec → idempotency → the strict handler. Unknown /api
// paths answer 404 and known paths with another method 405, both in the envelope; every
// other GET serves the embedded web app.
//
// Echo stays here: handlers below this package take a context and a request object.
package httpserver
