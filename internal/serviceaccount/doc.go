// Package serviceaccount manages machine identities and their API tokens. A token's secret
// is returned once and stored only as SHA-256; a token's role never exceeds its account's,
// and nobody creates an account with a role holding permissions they lack. Disabling an
// account revokes every token; revocations take effect on the next request.
package serviceaccount
