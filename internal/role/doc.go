// Package role serves the role registry: the built-in roles of internal/authz, the custom
// roles stored in the database, and the permission catalogue. Nobody can create a role
// granting a permission they do not hold themselves.
package role
