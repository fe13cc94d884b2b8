// Package support builds the support bundle (sysdump): a gzip tarball an operator hands
// to whoever troubleshoots the installation, built by POST /support/sysdump
// (support:sysdump, audited as support.sysdump_created) and by `openwatch sysdump`
// straight from the database.
//
// The bundle holds one file per topic (Build lists them) and MANIFEST.json naming each
// file with its size and SHA-256. It never holds a secret: the configuration is the
// redacted rendering of check-config (config.WriteTOML), the database is read only for
// counts, sizes, states and timestamps (never a sealed column, a hash of a bearer secret
// or a channel's settings), and the log lines are what the process already logged, which
// by the logging rules carry no secret either. A test plants a marker in every kind of
// secret and searches every file of the unpacked bundle for it.
package support
