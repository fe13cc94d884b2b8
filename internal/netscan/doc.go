// Package netscan scans network ranges for SSH servers (POST /discovery/cidr): a scan row
// and its River job are written in one transaction; the job tries a TCP connect and reads
// the SSH banner (sshx.Dialer.Banner, which dials only ssh.allowed_networks) on every
// address × port of the range with bounded concurrency, records each server it finds once
// (a re-run after a crash writes nothing twice), and publishes progress on the live event
// stream. Found servers can then be registered as hosts through the host service.
package netscan
