// Package host keeps the fleet inventory. Hosts are soft-deleted; a hostname is unique per
// environment among live hosts, enforced by a partial unique index so racing creates
// cannot both win. A host's effective maintenance mode is its own or its group's. Every
// change writes its audit event in the same transaction.
package host
