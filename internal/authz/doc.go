// Package authz holds who may do what: the permission catalogue, the built-in roles, the
// Principal that authentication resolves every request to, and the operation table built
// from the embedded OpenAPI document.
//
// Invariants: every operation of the API either names a permission from the catalogue in
// x-required-permission or is explicitly anonymous (security: [] and x-anonymous: true);
// LoadOperations refuses a document that breaks this, and the server refuses to start.
package authz
