package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/oscal"
)

// The OSCAL export formats of a compliance or posture report: the assessment results and
// the assessment plan they import. They are not signed themselves: a back-matter resource
// names the signed report (its id, the SHA-256 of its JSON export and the signing key id),
// so a reader ties the OSCAL document to the signed original.
const (
	FormatOSCAL     = "oscal"
	FormatOSCALPlan = "oscal-plan"
)

// oscalFileNames are the download names of the OSCAL exports (%s: the report id).
var oscalFileNames = map[string]string{
	FormatOSCAL:     "report-%s-oscal-assessment-results.json",
	FormatOSCALPlan: "report-%s-oscal-assessment-plan.json",
}

// exportName is the download name of a report's export in format.
func exportName(id uuid.UUID, format string) string {
	if n, ok := oscalFileNames[format]; ok {
		return fmt.Sprintf(n, id)
	}
	return fmt.Sprintf("report-%s.%s", id, format)
}

// exportOSCAL renders a compliance or posture report as an OSCAL document. content is the
// report's canonical JSON, signedJSON its JSON export (whose digest the document names).
// Errors: validation_failed naming format for another kind of report or a report without
// host results.
func exportOSCAL(ctx context.Context, content, signedJSON []byte, format string, sg Signer, rules oscal.Rules) ([]byte, error) {
	doc, err := decodeDocument(content)
	if err != nil {
		return nil, err
	}
	if doc.Compliance == nil || (doc.Kind != KindCompliance && doc.Kind != KindPosture) {
		return nil, apperr.Invalid("format", fmt.Sprintf("OSCAL exports compliance and posture reports, not %s reports.", doc.Kind))
	}
	a, err := oscalAssessment(doc, signedJSON, sg, rules)
	if err != nil {
		return nil, err
	}
	if format == FormatOSCALPlan {
		return oscal.AssessmentPlan(ctx, a)
	}
	return oscal.AssessmentResults(ctx, a)
}

// oscalAssessment is a compliance or posture report in the plain form of the OSCAL
// builders: one result per host with its rules (the catalog gives their framework
// references), excepted results with the exception in force, and the signed report as
// the source.
func oscalAssessment(doc Document, signedJSON []byte, sg Signer, rules oscal.Rules) (oscal.Assessment, error) {
	id, err := uuid.Parse(doc.ID)
	if err != nil {
		return oscal.Assessment{}, fmt.Errorf("report id: %w", err)
	}
	generated, err := time.Parse(time.RFC3339Nano, doc.GeneratedAt)
	if err != nil {
		return oscal.Assessment{}, fmt.Errorf("report generated_at: %w", err)
	}
	// The instant assessed: now for a compliance report, as_of for a posture report.
	at := generated
	if doc.Compliance.AsOf != nil {
		if at, err = time.Parse(time.RFC3339Nano, *doc.Compliance.AsOf); err != nil {
			return oscal.Assessment{}, fmt.Errorf("report as_of: %w", err)
		}
	}
	if len(doc.Compliance.Hosts) == 0 {
		return oscal.Assessment{}, apperr.Invalid("format", "The report holds no host results: an OSCAL assessment needs at least one.")
	}
	title := doc.Title + " of " + scopeText(doc.Scope)
	if doc.Compliance.Framework != "" {
		title += " (" + doc.Compliance.Framework + ")"
	}
	base := fmt.Sprintf("/api/v1/reports/%s/export?format=", id)
	a := oscal.Assessment{Kind: "report", ID: id, Title: title, LastModified: generated, PlanHref: base + FormatOSCALPlan}
	exceptions := map[string]ExceptionDoc{}
	for _, e := range doc.Compliance.Exceptions {
		exceptions[e.ID] = e
	}
	for _, h := range doc.Compliance.Hosts {
		hostID, err := uuid.Parse(h.HostID)
		if err != nil {
			return oscal.Assessment{}, fmt.Errorf("report host id: %w", err)
		}
		hr := oscal.HostResult{
			// Each host's result in this report has its own identifiers.
			ID:    uuid.NewSHA1(id, []byte(h.HostID)),
			Title: "Compliance of " + orName(h.Hostname, h.HostID) + " in report " + doc.ID,
			Description: fmt.Sprintf("The latest result of %d rules on %s as of %s, from report %s.",
				len(h.Results), orName(h.Hostname, h.HostID), stamp(at), doc.ID),
			Start: at, End: at,
			Host: oscal.Host{ID: hostID, Hostname: h.Hostname},
		}
		for _, r := range h.Results {
			rr := oscal.RuleResult{RuleID: r.RuleID, Title: r.Title, Severity: r.Severity, Status: r.Status, Reason: r.Reason,
				EvidenceHref: r.Evidence}
			if ru, ok := rules.Rule(r.RuleID); ok {
				rr.References = ru.References
			}
			if r.ExceptionID != "" {
				if e, ok := exceptions[r.ExceptionID]; ok {
					exID, _ := uuid.Parse(e.ID)
					expires, _ := time.Parse(time.RFC3339Nano, e.ExpiresAt)
					rr.Exception = &oscal.Exception{ID: exID, Reason: e.Reason, ExpiresAt: expires, ApprovedBy: e.ApprovedBy,
						Href: "/api/v1/exceptions/" + e.ID}
				}
			}
			hr.Rules = append(hr.Rules, rr)
		}
		a.Results = append(a.Results, hr)
	}
	sum := sha256.Sum256(signedJSON)
	a.Sources = []oscal.Source{{
		Title: "Signed OpenWatch report " + doc.ID,
		Description: "The signed report this document was derived from. Its JSON export (the link) has the SHA-256 digest given; " +
			"`openwatch verify-report` checks its Ed25519 signature with the signing key named by signing-key-id.",
		Props: []oscal.SourceProp{
			{Name: "report-id", Value: doc.ID},
			{Name: "report-kind", Value: doc.Kind},
			{Name: "signing-key-id", Value: sg.KeyID},
			{Name: "signature-algorithm", Value: Algorithm},
			{Name: "audit-chain-head-seq", Value: strconv.FormatInt(doc.AuditChainHead.Seq, 10)},
		},
		Links: []oscal.SourceLink{{Href: base + FormatJSON, MediaType: "application/json", SHA256: hex.EncodeToString(sum[:])}},
	}}
	if doc.AuditChainHead.Hash != "" {
		a.Sources[0].Props = append(a.Sources[0].Props, oscal.SourceProp{Name: "audit-chain-head-hash", Value: doc.AuditChainHead.Hash})
	}
	return a, nil
}

// decodeDocument decodes a report's canonical content.
func decodeDocument(content []byte) (Document, error) {
	var doc Document
	if err := json.Unmarshal(content, &doc); err != nil {
		return Document{}, fmt.Errorf("decode report: %w", err)
	}
	return doc, nil
}

func orName(name, id string) string {
	if name != "" {
		return name
	}
	return "host " + id
}
