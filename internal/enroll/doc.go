// Package enroll is self-enrollment: an administrator creates an enrollment token
// (expiry, uses, auto-approval, the group, environment and tags of the hosts it enrolls);
// a host fetches the enrollment script with it (GET /enroll.sh), and the script creates
// the scan account, installs the SSH user CA and the KRL in the layout certificate
// delivery also writes (sshca.LayoutDir, one drop-in sshca.DropIn, passed to the
// template so both write the same bytes), sends the
// host's facts and host public key (POST /enroll) and polls the request's status with a
// poll secret of its own until the request is approved (it then installs the signed host
// certificate and reloads sshd) or denied.
//
// Invariants. Token and poll secrets are random, shown once and stored as their SHA-256.
// A token's uses are counted in the statement that checks it is live (revoked, expired and
// used-up tokens are refused with the reason), and the count rolls back with a request
// that is refused later in its transaction. One host key has at most one live (pending or
// approved) request, and a key a live host already trusts is refused: a replay is a 409.
// The anonymous operations are rate-limited per client address and answer nothing about
// other requests or hosts. Approval (by an operator, or at once for an auto-approving
// token) is one transaction: the host, its pinned host key, its certificate credential,
// its host certificate, its first system info and compliance scan jobs, the decision and
// the audit events.
package enroll
