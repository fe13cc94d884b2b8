// Package vuln turns offline OSV advisory feeds into vulnerability exposure of the fleet.
//
// Import (ImportPath for the command line, ImportUpload for the API) reads OSV records
// from a directory tree, a zip of *.json or one JSON file, in one transaction with its
// history row and audit event. It is incremental: a record whose modified time is not newer
// than the stored one is unchanged and not rewritten; a withdrawn record stops matching; a
// record failing the checks is counted rejected with its reason and never stops the
// import. Each record is reduced to what matching and the API read (details cut to 8 KiB;
// no raw JSON kept): aliases, severity (the distribution's own rating when the record has
// one, otherwise the CVSS v3 band), the CVSS vector and v3 score, and per distribution
// release and package the ECOSYSTEM ranges' events and explicit versions.
//
// Matching compares each host's installed packages, taken from the inventory intelligence
// collects (never by contacting the host), with the affected entries of its release
// (Release, HostRelease), using dpkg or rpm version ordering (package version). Debian and
// Ubuntu records name source packages, so dpkg hosts are matched by source package and
// source version. Exposure is recomputed incrementally: after an import only for the
// (release, package) pairs whose records changed, after an inventory or release change
// only for that host (HostInventoryChangedTx, called by intelligence in its storing
// transaction). A host is "fix installable" when the record names a fixed version for its
// release above the installed one; whether the host's repositories already carry it is not
// known to intelligence yet.
//
// Exceptions: a vulnerability exception (package exception, kind vulnerability) names an
// advisory id or any alias one has, on a host, a group or the fleet. Exposures are never
// rewritten for it: the lists join the approved, unexpired exceptions covering each
// exposure (the host's own before its group's before the fleet's) and report it excepted,
// naming the exception, with excepted hosts counted apart; so approval, revocation and
// expiry take effect at once, without rematching.
//
// Alerts (alert.go): after each matching run (an import, a host's inventory change,
// MatchAll), in the same transaction, every exposure the run opened or reopened (its
// first_seen is the run's instant) to a critical advisory that no exception excepts raises
// a vulnerability_critical alert, one per host and advisory (dedup key
// vulnerability_critical:<host>:<advisory>); the live ones whose exposure was resolved,
// excepted or is no longer critical resolve themselves. Critical is the advisory's
// severity: the distribution's rating when the record has one, otherwise a CVSS v3 base
// score of 9.0 or more (severity.go). When an exception ends (revoked or expired),
// ExceptionEndedTx raises the alert again for the critical exposures it covered.
//
// A patch job from an advisory (internal/change, advisory.go) targets its exposed hosts
// with an installable fix, leaving out those an exception in force covers (ExceptedHosts).
package vuln
