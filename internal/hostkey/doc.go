// Package hostkey serves the operator side of SSH host key trust and the SSH client
// settings: listing a host's keys, approving a pending (changed) key, resetting trust so
// the next contact trusts on first use again, and reading and changing the "ssh"
// settings. The trust decisions on connection are made by package hostssh; every change
// here is audited in its transaction.
package hostkey
