package oscal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/rule"
)

// Version is the OSCAL version of every document this package writes.
const Version = "1.2.1"

// NS is the namespace of our own properties (rule id, result, framework references): the
// OSCAL names without a namespace are NIST's.
const NS = "urn:openwatch:ns:oscal"

// namespace seeds every document identifier: UUID v5 of a name made of our ids.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(NS))

// stableID is the UUID v5 of the parts: the same ids always give the same identifier.
func stableID(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).String()
}

// Assessment is what an assessment-results document (and its plan) reports, in plain form:
// a scan's results, a compliance report's or those of a group of scans.
type Assessment struct {
	// Kind and ID name the assessed thing ("scan" and its id, "report" and its id, ...).
	// Every identifier of the document derives from them and from the rule ids.
	Kind string
	ID   uuid.UUID
	// Scope narrows the document (for instance "rule/<id>"); documents of one thing with
	// different scopes get different identifiers.
	Scope string
	Title string
	// LastModified is the document's last-modified: the time its data was final (a scan's
	// finish time), never the time of the export, so exports are identical.
	LastModified time.Time
	// PlanHref is the assessment-plan document the results import (import-ap).
	PlanHref string
	// Results are the per-host results, one OSCAL result each.
	Results []HostResult
	// Sources are documents the assessment was taken from (a signed report): back-matter
	// resources of both documents, with their links and digests, so a reader can tie the
	// OSCAL document to the original.
	Sources []Source
}

// Source is a document an assessment was taken from: a back-matter resource.
type Source struct {
	Title       string
	Description string
	// Props are name/value properties in our namespace (report-id, signing-key-id, ...).
	Props []SourceProp
	// Links are where the document can be read, each with the digests of its bytes.
	Links []SourceLink
}

// SourceProp is a property of a Source, in our namespace.
type SourceProp struct{ Name, Value string }

// SourceLink is a link to a Source's bytes with their SHA-256 digest (hex, lower case).
type SourceLink struct {
	Href      string
	MediaType string
	SHA256    string
}

// resources returns the back-matter resources of the assessment's sources.
func (a Assessment) resources() []resource {
	var out []resource
	for i, src := range a.Sources {
		r := resource{UUID: stableID("source", a.Kind, a.ID.String(), a.Scope, strconv.Itoa(i)), Title: oneLine(src.Title),
			Description: src.Description}
		for _, p := range src.Props {
			r.Props = append(r.Props, property{Name: p.Name, NS: NS, Value: p.Value})
		}
		for _, l := range src.Links {
			rl := rlink{Href: l.Href, MediaType: l.MediaType}
			if l.SHA256 != "" {
				rl.Hashes = []hash{{Algorithm: "SHA-256", Value: l.SHA256}}
			}
			r.RLinks = append(r.RLinks, rl)
		}
		out = append(out, r)
	}
	return out
}

// HostResult is one host's results in the assessment.
type HostResult struct {
	// ID is the scan (or other source) that produced them; with the rule ids it seeds the
	// observation, finding and risk identifiers.
	ID          uuid.UUID
	Title       string
	Description string
	Start, End  time.Time
	Host        Host
	Rules       []RuleResult
}

// Host is the assessed host: an inventory item of the documents.
type Host struct {
	ID        uuid.UUID
	Hostname  string
	Address   string // IP address, empty when unknown
	OSFamily  string
	OSVersion string
}

// RuleResult is one rule's result on a host.
type RuleResult struct {
	RuleID   string
	Title    string
	Severity string
	// Status is pass, fail, excepted, error or skipped; Reason says why, in a sentence.
	Status string
	Reason string
	// EvidenceHref is where the result's evidence can be read (relevant-evidence).
	EvidenceHref string
	References   rule.References
	// Exception is the exception that accepted a failing result (status excepted).
	Exception *Exception
}

// Exception is an approved exception that accepted a failing result.
type Exception struct {
	ID         uuid.UUID
	Reason     string
	ExpiresAt  time.Time
	ApprovedBy string
	Href       string
}

// AssessmentResults returns the OSCAL assessment-results JSON document of a: one result per
// host, one observation and one finding per rule result, a risk with status
// deviation-approved per excepted result. It fails only on a cancelled ctx or an
// incomplete assessment (no result, no plan to import).
func AssessmentResults(ctx context.Context, a Assessment) ([]byte, error) {
	if len(a.Results) == 0 {
		return nil, fmt.Errorf("oscal assessment results: no result")
	}
	if a.PlanHref == "" {
		return nil, fmt.Errorf("oscal assessment results: no assessment plan to import")
	}
	doc := assessmentResults{
		UUID:     stableID("assessment-results", a.Kind, a.ID.String(), a.Scope),
		Metadata: a.metadata("Results of "),
		ImportAP: importRef{Href: a.PlanHref},
	}
	for _, hr := range a.Results {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		doc.Results = append(doc.Results, hr.result(a))
	}
	if res := a.resources(); len(res) > 0 {
		doc.BackMatter = &backMatter{Resources: res}
	}
	return marshal("assessment-results", doc)
}

// AssessmentPlan returns the OSCAL assessment-plan JSON document that the assessment-results
// of a import: the hosts as subjects (inventory items), the NIST SP 800-53 controls the
// rules reference as the reviewed controls and one task per host result. With no system
// security plan to import, import-ssp names a back-matter resource saying so.
func AssessmentPlan(ctx context.Context, a Assessment) ([]byte, error) {
	if len(a.Results) == 0 {
		return nil, fmt.Errorf("oscal assessment plan: no result")
	}
	noSSP := stableID("no-ssp", a.Kind, a.ID.String(), a.Scope)
	doc := assessmentPlan{
		UUID:      stableID("assessment-plan", a.Kind, a.ID.String(), a.Scope),
		Metadata:  a.metadata("Plan of "),
		ImportSSP: importRef{Href: "#" + noSSP, Remarks: "OpenWatch keeps no system security plan; the assessed hosts are defined locally."},
		LocalDefinitions: &localDefinitions{
			Components: []component{toolComponent(a.Kind, a.ID.String(), a.Scope)},
		},
		BackMatter: &backMatter{Resources: []resource{{UUID: noSSP, Title: "No system security plan",
			Description: "The assessment was planned without a system security plan: its subjects are the inventory items of this plan's local definitions."}}},
	}
	var all []RuleResult
	subjects := assessmentSubject{Type: "inventory-item", Description: "The hosts the assessment scans."}
	for _, hr := range a.Results {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		doc.LocalDefinitions.InventoryItems = append(doc.LocalDefinitions.InventoryItems, hr.Host.inventoryItem())
		subjects.IncludeSubjects = append(subjects.IncludeSubjects, selectSubject{SubjectUUID: hr.Host.uuid(), Type: "inventory-item"})
		doc.Tasks = append(doc.Tasks, task{UUID: stableID("task", hr.ID.String()), Type: "action",
			Title:       "Compliance scan of " + hr.Host.name(),
			Description: fmt.Sprintf("Evaluate %d rules on the host over SSH, each an automated test.", len(hr.Rules)),
			Props:       []property{{Name: "source-id", NS: NS, Value: hr.ID.String()}}})
		all = append(all, hr.Rules...)
	}
	doc.AssessmentSubjects = []assessmentSubject{subjects}
	doc.ReviewedControls = reviewed(all)
	doc.BackMatter.Resources = append(doc.BackMatter.Resources, a.resources()...)
	return marshal("assessment-plan", doc)
}

func marshal(root string, doc any) ([]byte, error) {
	b, err := json.MarshalIndent(map[string]any{root: doc}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode oscal %s: %w", root, err)
	}
	return b, nil
}

func (a Assessment) metadata(prefix string) metadata {
	title := a.Title
	if title == "" {
		title = prefix + a.Kind + " " + a.ID.String()
	}
	return metadata{Title: oneLine(title), LastModified: timestamp(a.LastModified), Version: a.ID.String(), OSCALVersion: Version,
		Props: []property{{Name: "source", NS: NS, Value: a.Kind + "/" + a.ID.String()}}}
}

// timestamp formats t as the OSCAL date-time with time zone (UTC).
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func toolComponent(seed ...string) component {
	return component{UUID: stableID(append([]string{"tool"}, seed...)...), Type: "software", Title: "OpenWatch",
		Description: "The OpenWatch compliance scanner, which ran the rules on the host over SSH and recorded their evidence.",
		Status:      status{State: "operational"}}
}

func (h Host) uuid() string { return stableID("inventory-item", h.ID.String()) }

func (h Host) name() string {
	if n := oneLine(h.Hostname); n != "" {
		return n
	}
	return "host " + h.ID.String()
}

func (h Host) inventoryItem() inventoryItem {
	it := inventoryItem{UUID: h.uuid(), Description: "The host " + h.name() + ", scanned by OpenWatch.",
		Props: []property{{Name: "asset-id", Value: h.ID.String()}}}
	if h.Hostname != "" {
		it.Props = append(it.Props, property{Name: "fqdn", Value: h.Hostname})
	}
	if ip, err := netip.ParseAddr(h.Address); err == nil {
		name := "ipv4-address"
		if ip.Is6() && !ip.Is4In6() {
			name = "ipv6-address"
		}
		it.Props = append(it.Props, property{Name: name, Value: ip.Unmap().String()})
	}
	if h.OSFamily != "" {
		it.Props = append(it.Props, property{Name: "os-name", Value: h.OSFamily})
	}
	if h.OSVersion != "" {
		it.Props = append(it.Props, property{Name: "os-version", Value: h.OSVersion})
	}
	return it
}

func (hr HostResult) result(a Assessment) result {
	tool := toolComponent(a.Kind, a.ID.String(), a.Scope, hr.ID.String())
	title := hr.Title
	if title == "" {
		title = "Compliance scan of " + hr.Host.name()
	}
	desc := hr.Description
	if desc == "" {
		desc = fmt.Sprintf("The results of %d rules evaluated on %s.", len(hr.Rules), hr.Host.name())
	}
	r := result{
		UUID: stableID("result", a.Kind, a.ID.String(), a.Scope, hr.ID.String()), Title: oneLine(title), Description: desc,
		Start: timestamp(hr.Start), End: timestamp(hr.End),
		Props:            []property{{Name: "source-id", NS: NS, Value: hr.ID.String()}},
		LocalDefinitions: &localDefinitions{Components: []component{tool}, InventoryItems: []inventoryItem{hr.Host.inventoryItem()}},
		ReviewedControls: reviewed(hr.Rules),
	}
	collected := timestamp(hr.End)
	for _, rr := range hr.Rules {
		obsID := stableID("observation", hr.ID.String(), rr.RuleID)
		refs := referenceProps(rr.References)
		props := append([]property{{Name: "rule-id", NS: NS, Value: rr.RuleID}, {Name: "severity", NS: NS, Value: rr.Severity},
			{Name: "result", NS: NS, Value: rr.Status}}, refs...)
		obs := observation{
			UUID: obsID, Title: rr.title(), Description: orDefault(rr.Reason, "The rule was evaluated on the host."),
			Props: props, Methods: []string{"TEST"},
			Origins:   []origin{{Actors: []actor{{Type: "tool", ActorUUID: tool.UUID}}}},
			Subjects:  []subjectRef{{SubjectUUID: hr.Host.uuid(), Type: "inventory-item", Title: hr.Host.name()}},
			Collected: collected,
		}
		if rr.EvidenceHref != "" {
			obs.RelevantEvidence = []relevantEvidence{{Href: rr.EvidenceHref,
				Description: "The evidence the scan recorded: the commands read on the host, their output and the expected and actual values."}}
		}
		r.Observations = append(r.Observations, obs)
		state, reason, remarks := targetState(rr)
		f := finding{
			UUID: stableID("finding", hr.ID.String(), rr.RuleID), Title: rr.title(),
			Description: fmt.Sprintf("Rule %s on %s: %s.", rr.RuleID, hr.Host.name(), rr.Status),
			Props:       props,
			Target: findingTarget{Type: "objective-id", TargetID: rr.RuleID, Title: rr.title(), Props: controlProps(rr.References),
				Status: targetStatus{State: state, Reason: reason, Remarks: remarks}},
			RelatedObservations: []relatedObservation{{ObservationUUID: obsID}},
		}
		if ex := rr.Exception; ex != nil {
			riskID := stableID("risk", hr.ID.String(), rr.RuleID)
			f.RelatedRisks = []relatedRisk{{RiskUUID: riskID}}
			rk := risk{
				UUID: riskID, Title: "Accepted deviation: " + rr.title(),
				Description: fmt.Sprintf("The rule %s fails on %s; an approved exception accepts the failure until %s.",
					rr.RuleID, hr.Host.name(), ex.ExpiresAt.UTC().Format(time.DateOnly)),
				Statement:           orDefault(ex.Reason, "The exception gives no justification."),
				Props:               []property{{Name: "exception-id", NS: NS, Value: ex.ID.String()}, {Name: "rule-id", NS: NS, Value: rr.RuleID}},
				Status:              "deviation-approved",
				Deadline:            timestamp(ex.ExpiresAt),
				RelatedObservations: []relatedObservation{{ObservationUUID: obsID}},
			}
			if ex.Href != "" {
				rk.Links = []link{{Href: ex.Href, Rel: "reference", Text: "The exception"}}
			}
			if ex.ApprovedBy != "" {
				rk.Props = append(rk.Props, property{Name: "approved-by", NS: NS, Value: ex.ApprovedBy})
			}
			r.Risks = append(r.Risks, rk)
			f.Props = append(slices.Clone(f.Props), property{Name: "exception-id", NS: NS, Value: ex.ID.String()})
		}
		r.Findings = append(r.Findings, f)
	}
	return r
}

func (rr RuleResult) title() string { return oneLine(orDefault(rr.Title, rr.RuleID)) }

// oneLine makes s a markup line (titles): no line breaks, no surrounding space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s != "" {
		return s
	}
	return def
}

// targetState maps a result onto the finding target's status. Only a pass satisfies the
// objective; a fail an exception accepts is still not satisfied (the accepted deviation is
// a risk), and a result the scan could not determine is not satisfied either.
func targetState(rr RuleResult) (state, reason, remarks string) {
	switch rr.Status {
	case "pass":
		return "satisfied", "pass", ""
	case "fail":
		return "not-satisfied", "fail", ""
	case "excepted":
		return "not-satisfied", "fail", "The failure is accepted by an approved exception (see the related risk)."
	case "skipped":
		return "not-satisfied", "other", "The rule was not evaluated on this host: " + orDefault(rr.Reason, "no reason given.")
	default:
		return "not-satisfied", "other", "The check could not be completed: " + orDefault(rr.Reason, "no reason given.")
	}
}

// referenceProps lists the rule's framework references as properties in our namespace.
func referenceProps(refs rule.References) []property {
	var out []property
	for _, c := range refs.NIST80053 {
		out = append(out, property{Name: "nist-800-53", NS: NS, Value: c})
	}
	for _, bench := range sortedKeys(refs.CIS) {
		for _, c := range refs.CIS[bench] {
			out = append(out, property{Name: "cis-" + bench, NS: NS, Value: c.Section, Class: tokenOr(c.Level)})
		}
	}
	for _, bench := range sortedKeys(refs.STIG) {
		for _, s := range refs.STIG[bench] {
			p := property{Name: "stig-" + bench, NS: NS, Value: s.VulnID, Class: tokenOr(strings.ReplaceAll(s.CAT, " ", "-"))}
			if s.STIGID != "" {
				p.Remarks = "STIG id " + s.STIGID + "."
			}
			out = append(out, p)
		}
	}
	for _, c := range refs.NIST800171 {
		out = append(out, property{Name: "nist-800-171", NS: NS, Value: c})
	}
	for _, c := range refs.PCIDSS4 {
		out = append(out, property{Name: "pci-dss-4", NS: NS, Value: c})
	}
	for _, c := range refs.SRG {
		out = append(out, property{Name: "srg", NS: NS, Value: c})
	}
	return out
}

// controlProps names the OSCAL control ids of the rule's NIST SP 800-53 references on the
// finding's target.
func controlProps(refs rule.References) []property {
	var out []property
	seen := map[string]bool{}
	for _, ref := range refs.NIST80053 {
		c, ok := ControlID(ref)
		if !ok || seen[c.Control] {
			continue
		}
		seen[c.Control] = true
		out = append(out, property{Name: "control-id", NS: NS, Value: c.Control})
	}
	return out
}

func tokenOr(s string) string {
	if tokenPattern.MatchString(s) {
		return s
	}
	return ""
}

var tokenPattern = regexp.MustCompile(`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Control is a NIST SP 800-53 reference as OSCAL names it: the control (or enhancement)
// id and, for a reference to an item of its statement, the statement part's id.
type Control struct {
	Control   string // "ac-2", "ia-5.1"
	Statement string // "ia-5.1_smt.a", empty for the whole control
}

var controlPattern = regexp.MustCompile(`^([A-Z]{2})-([0-9]{1,3})(?:\(([0-9]{1,3})\))?((?:\([a-z0-9]{1,3}\))*)$`)

// ControlID maps a NIST SP 800-53 reference of our rules ("AC-2", "AC-17(2)", "IA-5(1)(a)",
// "CM-11(a)") to the control id of the NIST OSCAL catalog ("ac-2", "ac-17.2", "ia-5.1",
// "cm-11") and, for a reference to a statement item, that item's part id ("ia-5.1_smt.a",
// "cm-11_smt.a"). ok is false for anything else.
func ControlID(ref string) (Control, bool) {
	m := controlPattern.FindStringSubmatch(strings.TrimSpace(ref))
	if m == nil {
		return Control{}, false
	}
	id := strings.ToLower(m[1]) + "-" + strings.TrimLeft(m[2], "0")
	if m[3] != "" {
		id += "." + strings.TrimLeft(m[3], "0")
	}
	c := Control{Control: id}
	if items := m[4]; items != "" {
		parts := strings.Split(strings.Trim(items, "()"), ")(")
		c.Statement = id + "_smt." + strings.Join(parts, ".")
	}
	return c, true
}

// reviewed returns the reviewed controls of the results: every NIST SP 800-53 control their
// rules reference, a statement item only when the whole control is not referenced. Rules
// without such a reference are assessed all the same; when none has one, the selection
// is include-all, described as such.
func reviewed(rules []RuleResult) reviewedControls {
	whole := map[string]bool{}
	items := map[string]map[string]bool{}
	for _, rr := range rules {
		for _, ref := range rr.References.NIST80053 {
			c, ok := ControlID(ref)
			switch {
			case !ok:
			case c.Statement == "":
				whole[c.Control] = true
			default:
				if items[c.Control] == nil {
					items[c.Control] = map[string]bool{}
				}
				items[c.Control][c.Statement] = true
			}
		}
	}
	ids := map[string]bool{}
	for id := range whole {
		ids[id] = true
	}
	for id := range items {
		ids[id] = true
	}
	rc := reviewedControls{Description: "The NIST SP 800-53 controls the evaluated rules reference. Each finding's target is a rule, with the controls it supports as control-id properties."}
	if len(ids) == 0 {
		rc.ControlSelections = []controlSelection{{IncludeAll: &struct{}{},
			Description: "None of the evaluated rules references a NIST SP 800-53 control; the findings name their rules and framework references."}}
		return rc
	}
	sel := controlSelection{}
	for _, id := range sortedControls(ids) {
		ref := controlRef{ControlID: id}
		if !whole[id] {
			ref.StatementIDs = sortedKeys(items[id])
		}
		sel.IncludeControls = append(sel.IncludeControls, ref)
	}
	rc.ControlSelections = []controlSelection{sel}
	return rc
}

// sortedControls orders control ids by family, then number, then enhancement.
func sortedControls(ids map[string]bool) []string {
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	key := func(id string) (string, int, int) {
		fam, rest, _ := strings.Cut(id, "-")
		num, enh, _ := strings.Cut(rest, ".")
		var n, e int
		fmt.Sscan(num, &n)
		if enh != "" {
			fmt.Sscan(enh, &e)
		}
		return fam, n, e
	}
	slices.SortFunc(out, func(a, b string) int {
		fa, na, ea := key(a)
		fb, nb, eb := key(b)
		if c := strings.Compare(fa, fb); c != 0 {
			return c
		}
		if na != nb {
			return na - nb
		}
		return ea - eb
	})
	return out
}
