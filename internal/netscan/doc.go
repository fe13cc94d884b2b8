// Package netscan runs network scans: it scans network ranges for SSH servers (the API's
// "discovery" paths, POST /discovery/cidr; not to be confused with a host's system info,
// which package intel collects). A scan row and its River job are written in one
// transaction; the job tries a TCP connect and reads the SSH banner (sshx.Dialer.Banner,
// which dials only ssh.allowed_networks) on every address × port of the range with bounded
// concurrency, records each server it finds once (a re-run after a crash writes nothing
// twice), and publishes progress on the live event stream. A found server is registered as
// a host in one transaction (RegisterTx) that locks the address, creates the host through
// the host service and marks it registered.
package netscan
