// Package config defines OpenWatch's configuration and resolves it from its
// sources.
//
// A configuration is built in layers, each overriding the one before it:
// built-in defaults, the TOML file (/etc/openwatch/openwatch.toml unless
// --config names another), the secrets file (/etc/openwatch/secrets.env,
// KEY=VALUE lines), the process environment, and command-line flags.
//
// Every key is reachable from every layer by one rule derived from the struct
// tags, so adding a field to a section adds its TOML key, its environment
// variable and its flag at once. The key listen in section [server] is the
// TOML key server.listen, the environment variable OPENWATCH_SERVER_LISTEN
// and the flag --server-listen.
//
// The package reads no environment variable and parses no flag by itself: the
// caller hands both in through Sources, so Load is deterministic in tests.
// Load rejects unknown TOML keys and unknown OPENWATCH_<SECTION>_* variables
// so a typo fails loudly instead of silently keeping a default, and every
// error it returns names the offending key in section.key form.
//
// Fields tagged secret:"true" never leave the process in clear text through
// WriteTOML; for the database DSN only the password is hidden, so an operator
// still sees which server and database are in use.
package config
