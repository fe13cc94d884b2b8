// Package oscal exports compliance results as OSCAL 1.2.1 JSON documents (NIST's Open
// Security Controls Assessment Language): assessment results and the assessment-plan
// subset they import.
//
// Operations (scan:read): GET /scans/{id}/oscal (the scan's assessment results),
// GET /scans/{id}/oscal/assessment-plan (the plan they import) and
// GET /scans/{id}/rules/{ruleId}/oscal (the results narrowed to one rule). Only a completed
// scan exports (409 otherwise); 404 for an unknown scan or a rule it has no result for.
//
// The builders take results in a plain form, so any source can be exported, not only a
// scan: AssessmentResults(ctx, Assessment) and AssessmentPlan(ctx, Assessment) return the
// JSON documents of an Assessment, which holds one HostResult per host (its Host, the
// RuleResults with status, reason, evidence link, framework references and the Exception
// that accepted a failure). A compliance report fills an Assessment with its per-host
// results (Kind "report", its id) and gets the same documents; a group of scans gives one
// OSCAL result per host (FleetAssessment builds that Assessment from Service.ScanAssessment
// of each scan). An Assessment's Sources (the signed report it was taken from) become
// back-matter resources of both documents, each link with its SHA-256 digest.
//
// Mapping (docs/oscal.md explains the choices):
//   - each host is an inventory item (asset-id, fqdn, address, os-name, os-version) in the
//     result's local definitions and the plan's, and the subject of every observation;
//   - each rule result is one observation (method TEST, collected at the scan's end, a
//     relevant-evidence link to GET /scans/{id}/rules/{ruleId}/evidence) and one finding
//     whose target is the rule (type objective-id, target-id the rule id): state satisfied
//     for a pass, not-satisfied otherwise, reason pass, fail or other;
//   - framework references are properties in our namespace NS (nist-800-53, cis-<bench>,
//     stig-<bench>, nist-800-171, pci-dss-4, srg); NIST SP 800-53 references become the
//     OSCAL control ids of the reviewed controls ("AC-17(2)" → ac-17.2, "IA-5(1)(a)" →
//     ia-5.1 with statement ia-5.1_smt.a, see ControlID) and control-id properties of the
//     finding's target; rules without one are findings all the same;
//   - a failure an approved exception accepts (status excepted) is a not-satisfied finding
//     with a related risk of status deviation-approved: the justification as its statement
//     (shown to readers of exceptions only), the expiry as its deadline, the exception's id
//     and approver as properties and a link to the exception.
//
// Invariants: every identifier is a UUID v5 derived from the source's kind and id, the
// document's scope, the scan id and the rule id, and last-modified is the time the data
// was final (a scan's finish time), so two exports of the same data are byte for byte
// identical. Every document the package writes validates against the official NIST OSCAL
// 1.2.1 JSON Schemas (testdata/, checked by the tests).
package oscal
