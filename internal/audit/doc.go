// Package audit keeps the tamper-evident audit trail: who did what, to what, when, from
// where, under which correlation id.
//
// Invariants:
//   - Every state change appends one event with Writer.Append inside the transaction that
//     makes the change, so there is no change without its event and no event without its
//     change. Refusals (authorization denials, failed sign-ins) have no transaction of their
//     own and use Writer.AppendAlone.
//   - Only registered actions (Actions, in registry.go) may be appended; the action fixes the
//     severity.
//   - Secrets never reach the trail: values under secret-like keys anywhere in the detail
//     (password, token, secret, api_key, otp, cookie, dsn, ...; see secretLike) are stored
//     as Redacted and their JSON paths (detail.new_password, detail.items[0].token) are
//     listed in the event's redactions.
//   - The rows form a hash chain. Each row has a seq (1, 2, 3, ... with no gaps) and
//     mac = HMAC-SHA256(key, canonical encoding of every other column, prev_mac included),
//     where prev_mac is the previous row's mac. The single audit_head row holds the last
//     seq and mac and checkpoint_mac = HMAC(key, "checkpoint" || seq || mac). Appending
//     locks the head row, so concurrent writers take turns and the chain cannot fork; the
//     head moves in the same statement as the insert. Writer.Verify recomputes the chain
//     and names the first seq that does not verify. A periodic job (package alert)
//     verifies it and records the verdict with RecordCheckTx (audit_chain_checks, one
//     row; Writer.LastCheck reads it).
//   - The canonical encoding survives PostgreSQL: timestamps count microseconds, the
//     detail is encoded from its JSON value with sorted keys and normalised numbers (not
//     from jsonb's text), and strings are made valid UTF-8 without NUL before they are
//     stored.
//   - The HMAC key (KeySize random bytes) lives in audit_keys, sealed by internal/seal with
//     associated data {audit_keys, sealed_key, <row id>}; LoadOrCreateKey makes it on first
//     start. Losing the key file makes the chain unverifiable, not unreadable.
//   - audit_events refuses UPDATE, DELETE and TRUNCATE (a trigger), and audit_head refuses
//     DELETE and TRUNCATE; the chain catches whoever gets past them.
//
// Lists are newest first by seq with an opaque, authenticated keyset cursor; every filter
// has an index ending in seq.
package audit
