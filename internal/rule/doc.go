// Package rule is OpenWatch's compliance rule format and the rule corpus embedded in the
// binary.
//
// A rule is one YAML file in corpus/ named after its id. It states what a host must look
// like (a typed check per implementation), for which platforms, why (title, description,
// rationale), under which framework references (CIS per benchmark, DISA STIG, NIST 800-53
// and 800-171, PCI DSS 4, SRG), with which site variables, and which remediation
// mechanism would make it pass (executed by a later component).
//
// Decoding is strict: an unknown key, a value of the wrong type, an unknown check method,
// capability, category or remediation mechanism, a variable used but not declared, or a
// relation to a rule that does not exist is an error that names the file and line. The
// corpus test loads every embedded file, so a bad rule fails the build's tests.
//
// Invariants:
//   - Check methods are a closed set (Methods); each has its own parameter struct. The
//     `command` method exists only as a last resort and says so in its rule.
//   - Implementations are tried in order: the first whose capability guard holds on the
//     host is used, otherwise the one without a guard (at most one, and it is last).
//   - References are facts: a rule claims only the framework entries it was given.
//
// The package is pure: no I/O beyond reading the embedded files, no database, no SSH.
// Evaluating checks against a host is package engine's job.
package rule
