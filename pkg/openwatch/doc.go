// Package openwatch is the hand-written convenience layer over the generated Go client
// (gen/client) of the OpenWatch API.
//
// A Client embeds the generated *client.ClientWithResponses, so every operation of the API
// is a method of it, and adds what a script needs around them:
//
//   - Authentication: a password sign-in (Login, with the MFA code when the account has
//     one), a bearer token, the tokens of an earlier sign-in (WithTokens), or an API token
//     whose signing key signs each request (RFC 9421, WithAPIToken). An expired access
//     token is refreshed with the refresh token once and the request sent again; the new
//     pair is handed to the OnRefresh callback so a caller can keep it.
//   - Retries: GET, HEAD, PUT, DELETE and OPTIONS requests, and POST requests that carry an
//     Idempotency-Key header, are sent again on 429, 502, 503 and 504 answers and on
//     connection errors, with exponential backoff that honours Retry-After. IdempotencyKey
//     returns a request editor that gives one logical call one key, reused by its retries.
//   - Pagination: Pages turns any cursor-paginated list into an iter.Seq2; Hosts, Alerts,
//     Scans and Reports are ready-made iterators.
//   - Errors: answers of 400 and above become *APIError, carrying the envelope's code,
//     message, detail and correlation id (Check, IsCode).
//   - Waiting: WaitScan follows a scan on the live event stream (Events) and falls back to
//     polling; WaitReport polls a report until it completes.
package openwatch
