// Package mfa holds the pure logic of second-factor sign-in: TOTP secrets and codes
// (RFC 6238) and single-use recovery codes. It stores nothing; the caller persists what it
// returns.
//
// TOTP uses what every authenticator app supports: SHA-1, 6 digits and a 30-second
// period. Verify accepts the code of the current step and of one step either side (clock
// skew), and refuses any code whose step is not later than the last step accepted for the
// account, so a code observed in transit cannot be replayed within its validity window.
// The caller stores the step Verify returns and passes it back on the next attempt; Verify
// does not rate-limit, so the caller must (see internal/ratelimit).
//
// Recovery codes are 12 characters from Crockford's base32 alphabet (60 bits each), shown
// to the user once as three dash-separated groups. Only their SHA-256 digests are stored:
// the codes are random, not chosen by people, so a slow hash adds nothing. Input is
// normalised before hashing (case, spaces and dashes ignored; the look-alikes o, i and l
// read as 0, 1 and 1), so a code copied by hand still matches.
package mfa
