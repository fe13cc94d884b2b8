// Package app is the composition root: the only package that calls every constructor. It
// loads the spec, opens the database (starting the managed cluster when no DSN is set),
// builds the services and the HTTP server from config.Config, and runs them.
package app
