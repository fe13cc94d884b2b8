package oscal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/oscal"
	"github.com/openwatch/openwatch/internal/rule"
)

var (
	scanID      = uuid.MustParse("0f8c3a52-61d4-4b0e-9d0a-5b1f7e2c9a11")
	hostID      = uuid.MustParse("5d2b7a40-1c3e-4f5a-8b6c-7d8e9f0a1b2c")
	exceptionID = uuid.MustParse("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
	finished    = time.Date(2026, 12, 1, 10, 30, 15, 123456000, time.UTC)
)

// sample is one scan of one host with a result of each status; two rules have NIST SP
// 800-53 references (one to a statement item only), the others have none.
func sample() oscal.Assessment {
	refs := func(nist ...string) rule.References {
		return rule.References{NIST80053: nist,
			CIS:        map[string][]rule.CISRef{"rhel9": {{Section: "5.2.1", Level: "L1", Type: "Automated"}}},
			STIG:       map[string][]rule.STIGRef{"rhel8": {{VulnID: "V-230223", STIGID: "RHEL-08-010020", CAT: "CAT I"}}},
			NIST800171: []string{"3.1.7[d]"}, PCIDSS4: []string{"8.3.4"}, SRG: []string{"SRG-OS-000480-GPOS-00227"}}
	}
	ev := func(id string) string { return fmt.Sprintf("/api/v1/scans/%s/rules/%s/evidence", scanID, id) }
	return oscal.Assessment{
		Kind: "scan", ID: scanID, LastModified: finished, Title: "Compliance scan of web-1",
		PlanHref: "/api/v1/scans/" + scanID.String() + "/oscal/assessment-plan",
		Results: []oscal.HostResult{{
			ID: scanID, Start: finished.Add(-time.Minute), End: finished,
			Host: oscal.Host{ID: hostID, Hostname: "web-1.example.org", Address: "192.0.2.10", OSFamily: "debian", OSVersion: "12"},
			Rules: []oscal.RuleResult{
				{RuleID: "accounts-no-empty-passwords", Title: "No account has an empty password", Severity: "critical", Status: "pass",
					Reason: "No account has an empty password.", EvidenceHref: ev("accounts-no-empty-passwords"), References: refs("IA-5", "AC-6(2)")},
				{RuleID: "login-defs-pass-max-days", Title: "Passwords expire", Severity: "medium", Status: "fail",
					Reason: "PASS_MAX_DAYS is 99999.", EvidenceHref: ev("login-defs-pass-max-days"), References: refs("IA-5(1)(d)")},
				{RuleID: "ssh-disable-root-login", Title: "Root cannot log in over SSH", Severity: "high", Status: "excepted",
					Reason: "PermitRootLogin is yes.", EvidenceHref: ev("ssh-disable-root-login"),
					Exception: &oscal.Exception{ID: exceptionID, Reason: "Break-glass access until the vault is deployed.",
						ExpiresAt: finished.Add(30 * 24 * time.Hour), ApprovedBy: "sam",
						Href: "/api/v1/exceptions/" + exceptionID.String()}},
				{RuleID: "aide-installed", Title: "AIDE is installed", Severity: "medium", Status: "skipped", Reason: "No implementation fits the host."},
				{RuleID: "auditd-enabled", Title: "auditd is enabled", Severity: "medium", Status: "error", Reason: "The check timed out."},
			},
		}},
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// at walks a decoded document: string keys into objects, ints into arrays.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

func TestAssessmentResultsValidateAndMatchTheResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := sample()
	ar, err := oscal.AssessmentResults(ctx, a)
	require.NoError(t, err)
	requireValid(t, ar)
	ap, err := oscal.AssessmentPlan(ctx, a)
	require.NoError(t, err)
	requireValid(t, ap)

	// Stable: the same assessment gives the same bytes.
	again, err := oscal.AssessmentResults(ctx, sample())
	require.NoError(t, err)
	require.Equal(t, string(ar), string(again))

	doc := decode(t, ar)
	require.Equal(t, "1.2.1", at(doc, "assessment-results", "metadata", "oscal-version"))
	require.Equal(t, "2026-12-01T10:30:15.123456Z", at(doc, "assessment-results", "metadata", "last-modified"))
	require.Equal(t, a.PlanHref, at(doc, "assessment-results", "import-ap", "href"))
	res := at(doc, "assessment-results", "results", 0)
	require.Equal(t, []any{
		map[string]any{"control-id": "ac-6.2"},
		map[string]any{"control-id": "ia-5"},
		map[string]any{"control-id": "ia-5.1", "statement-ids": []any{"ia-5.1_smt.d"}},
	}, at(res, "reviewed-controls", "control-selections", 0, "include-controls"))
	item := at(res, "local-definitions", "inventory-items", 0).(map[string]any)

	findings := at(res, "findings").([]any)
	observations := at(res, "observations").([]any)
	require.Len(t, findings, len(a.Results[0].Rules))
	require.Len(t, observations, len(a.Results[0].Rules))
	want := map[string][2]string{
		"accounts-no-empty-passwords": {"satisfied", "pass"},
		"login-defs-pass-max-days":    {"not-satisfied", "fail"},
		"ssh-disable-root-login":      {"not-satisfied", "fail"},
		"aide-installed":              {"not-satisfied", "other"},
		"auditd-enabled":              {"not-satisfied", "other"},
	}
	for i, f := range findings {
		rr := a.Results[0].Rules[i]
		require.Equal(t, rr.RuleID, at(f, "target", "target-id"))
		require.Equal(t, "objective-id", at(f, "target", "type"))
		require.Equal(t, want[rr.RuleID][0], at(f, "target", "status", "state"), rr.RuleID)
		require.Equal(t, want[rr.RuleID][1], at(f, "target", "status", "reason"), rr.RuleID)
		obs := observations[i]
		require.Equal(t, at(obs, "uuid"), at(f, "related-observations", 0, "observation-uuid"))
		require.Equal(t, []any{"TEST"}, at(obs, "methods"))
		require.Equal(t, item["uuid"], at(obs, "subjects", 0, "subject-uuid"))
		if rr.EvidenceHref != "" {
			require.Equal(t, rr.EvidenceHref, at(obs, "relevant-evidence", 0, "href"))
		}
	}
	// The excepted result is an approved deviation, linked from its finding.
	risks := at(res, "risks").([]any)
	require.Len(t, risks, 1)
	require.Equal(t, "deviation-approved", at(risks[0], "status"))
	require.Equal(t, "Break-glass access until the vault is deployed.", at(risks[0], "statement"))
	require.Equal(t, at(risks[0], "uuid"), at(findings[2], "related-risks", 0, "risk-uuid"))
	// The finding of a rule mapped to 800-53 names the controls on its target.
	require.Equal(t, []any{
		map[string]any{"name": "control-id", "ns": oscal.NS, "value": "ia-5"},
		map[string]any{"name": "control-id", "ns": oscal.NS, "value": "ac-6.2"},
	}, at(findings[0], "target", "props"))

	// The plan defines the subject the results observe.
	plan := decode(t, ap)
	require.Equal(t, item["uuid"], at(plan, "assessment-plan", "assessment-subjects", 0, "include-subjects", 0, "subject-uuid"))
	require.Equal(t, at(res, "reviewed-controls", "control-selections"), at(plan, "assessment-plan", "reviewed-controls", "control-selections"))
	require.Equal(t, "#"+at(plan, "assessment-plan", "back-matter", "resources", 0, "uuid").(string),
		at(plan, "assessment-plan", "import-ssp", "href"))
}

// TestIdentifiersAreStableAndDistinct: identifiers derive from the scan and rule ids, so
// another scan gets others and a narrowed document another document uuid.
func TestIdentifiersAreStableAndDistinct(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	one, err := oscal.AssessmentResults(ctx, sample())
	require.NoError(t, err)
	other := sample()
	other.ID = uuid.MustParse("1f8c3a52-61d4-4b0e-9d0a-5b1f7e2c9a11")
	other.Results[0].ID = other.ID
	two, err := oscal.AssessmentResults(ctx, other)
	require.NoError(t, err)
	narrowed := sample()
	narrowed.Scope = "rule/login-defs-pass-max-days"
	three, err := oscal.AssessmentResults(ctx, narrowed)
	require.NoError(t, err)

	a, b, c := decode(t, one), decode(t, two), decode(t, three)
	require.NotEqual(t, at(a, "assessment-results", "uuid"), at(b, "assessment-results", "uuid"))
	require.NotEqual(t, at(a, "assessment-results", "uuid"), at(c, "assessment-results", "uuid"))
	require.NotEqual(t, at(a, "assessment-results", "results", 0, "findings", 0, "uuid"), at(b, "assessment-results", "results", 0, "findings", 0, "uuid"))
	require.Equal(t, at(a, "assessment-results", "results", 0, "findings", 0, "uuid"), at(c, "assessment-results", "results", 0, "findings", 0, "uuid"),
		"a finding is the same in the narrowed document")
	requireUniqueUUIDs(t, a)
}

// TestValidatorRejectsBrokenDocuments proves the validator validates: a valid document
// broken in one place fails, naming the place.
func TestValidatorRejectsBrokenDocuments(t *testing.T) {
	t.Parallel()
	good, err := oscal.AssessmentResults(context.Background(), sample())
	require.NoError(t, err)
	requireValid(t, good)
	for name, tc := range map[string]struct {
		change func(doc map[string]any)
		where  string
	}{
		"missing uuid": {func(d map[string]any) {
			delete(at(d, "assessment-results", "results", 0, "findings", 1).(map[string]any), "uuid")
		}, "/assessment-results/results/0/findings/1"},
		"bad control-id": {func(d map[string]any) {
			at(d, "assessment-results", "results", 0, "reviewed-controls", "control-selections", 0, "include-controls", 0).(map[string]any)["control-id"] = "AC 6(2)"
		}, "/assessment-results/results/0/reviewed-controls/control-selections/0"},
		"uuid of version 1": {func(d map[string]any) {
			at(d, "assessment-results").(map[string]any)["uuid"] = "c232ab00-9414-11ec-b3c8-9f6bdeced846"
		}, "/assessment-results/uuid"},
		"date without time zone": {func(d map[string]any) {
			at(d, "assessment-results", "metadata").(map[string]any)["last-modified"] = "2026-12-01T10:30:15"
		}, "/assessment-results/metadata/last-modified"},
		"unknown status": {func(d map[string]any) {
			at(d, "assessment-results", "results", 0, "findings", 0, "target", "status").(map[string]any)["state"] = "passed"
		}, "/assessment-results/results/0/findings/0/target/status/state"},
		"unknown property": {func(d map[string]any) {
			at(d, "assessment-results", "results", 0, "observations", 0).(map[string]any)["verdict"] = "ok"
		}, "/assessment-results/results/0/observations/0"},
		"empty findings": {func(d map[string]any) {
			at(d, "assessment-results", "results", 0).(map[string]any)["findings"] = []any{}
		}, "/assessment-results/results/0/findings"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := decode(t, good)
			tc.change(doc)
			b, err := json.Marshal(doc)
			require.NoError(t, err)
			err = validate(t, b)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.where)
		})
	}
}

// TestSchemaPatternsAreUnicode: the token pattern (^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$) is
// read as XML Schema means it: any letter may start a token, a digit or a space may not.
func TestSchemaPatternsAreUnicode(t *testing.T) {
	t.Parallel()
	good, err := oscal.AssessmentResults(context.Background(), sample())
	require.NoError(t, err)
	for name, ok := range map[string]bool{"ünïcode-1.2_x": true, "Ωmega": true, "_x": true, "1abc": false, "a b": false, "-a": false, "a/b": false} {
		doc := decode(t, good)
		at(doc, "assessment-results", "results", 0, "findings", 0, "target").(map[string]any)["target-id"] = name
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		if ok {
			require.NoError(t, validate(t, b), name)
		} else {
			require.Error(t, validate(t, b), name)
		}
	}
}

func TestControlID(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]oscal.Control{
		"AC-2":       {Control: "ac-2"},
		"AC-17(2)":   {Control: "ac-17.2"},
		"SI-7(15)":   {Control: "si-7.15"},
		"IA-5(1)(a)": {Control: "ia-5.1", Statement: "ia-5.1_smt.a"},
		"CM-11(a)":   {Control: "cm-11", Statement: "cm-11_smt.a"},
		"AC-7(b)":    {Control: "ac-7", Statement: "ac-7_smt.b"},
	} {
		got, ok := oscal.ControlID(ref)
		require.True(t, ok, ref)
		require.Equal(t, want, got, ref)
	}
	for _, bad := range []string{"", "AC", "ac-2", "AC-2 (1)", "3.1.7", "AC-2(1", "AC-2(A)"} {
		_, ok := oscal.ControlID(bad)
		require.False(t, ok, bad)
	}
}

// TestEveryRuleOfTheCorpus: a result of every rule the binary carries exports to valid
// documents, and each NIST SP 800-53 reference of the corpus maps to a control id.
func TestEveryRuleOfTheCorpus(t *testing.T) {
	t.Parallel()
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	a := sample()
	a.Results[0].Rules = nil
	statuses := []string{"pass", "fail", "skipped", "error"}
	mapped := 0
	for i, r := range corpus.All() {
		for _, ref := range r.References.NIST80053 {
			_, ok := oscal.ControlID(ref)
			require.True(t, ok, "%s: %s", r.ID, ref)
			mapped++
		}
		a.Results[0].Rules = append(a.Results[0].Rules, oscal.RuleResult{RuleID: r.ID, Title: r.Title, Severity: string(r.Severity),
			Status: statuses[i%len(statuses)], Reason: "Checked.", References: r.References})
	}
	require.Positive(t, mapped)
	ar, err := oscal.AssessmentResults(context.Background(), a)
	require.NoError(t, err)
	requireValid(t, ar)
	ap, err := oscal.AssessmentPlan(context.Background(), a)
	require.NoError(t, err)
	requireValid(t, ap)
	require.Len(t, at(decode(t, ar), "assessment-results", "results", 0, "findings"), len(corpus.All()))
}

// TestNoNISTReference: results whose rules reference no 800-53 control select all
// controls, described as such, and stay valid.
func TestNoNISTReference(t *testing.T) {
	t.Parallel()
	a := sample()
	a.Results[0].Rules = a.Results[0].Rules[2:]
	ar, err := oscal.AssessmentResults(context.Background(), a)
	require.NoError(t, err)
	requireValid(t, ar)
	sel := at(decode(t, ar), "assessment-results", "results", 0, "reviewed-controls", "control-selections", 0).(map[string]any)
	require.Contains(t, sel, "include-all")
	require.Contains(t, sel["description"], "None of the evaluated rules")
}

// TestAssessmentEdges: an assessment without results or without a plan is an error; titles
// with line breaks are written as one line.
func TestAssessmentEdges(t *testing.T) {
	t.Parallel()
	_, err := oscal.AssessmentResults(context.Background(), oscal.Assessment{Kind: "scan", ID: scanID})
	require.Error(t, err)
	_, err = oscal.AssessmentPlan(context.Background(), oscal.Assessment{Kind: "scan", ID: scanID})
	require.Error(t, err)
	// Titles given with line breaks are written as one line.
	multi := sample()
	multi.Title = "Quarterly\nreview "
	multi.Results[0].Rules[0].Title = "Two\nlines"
	ar, err := oscal.AssessmentResults(context.Background(), multi)
	require.NoError(t, err)
	requireValid(t, ar)
	require.Equal(t, "Quarterly review", at(decode(t, ar), "assessment-results", "metadata", "title"))
	noPlan := sample()
	noPlan.PlanHref = ""
	_, err = oscal.AssessmentResults(context.Background(), noPlan)
	require.Error(t, err)
}

// TestFleet: a group of hosts is one result per host, each with its own subject, and the
// documents stay valid; the plan names every host.
func TestFleet(t *testing.T) {
	t.Parallel()
	a := sample()
	a.Kind, a.ID = "batch", uuid.MustParse("2a8c3a52-61d4-4b0e-9d0a-5b1f7e2c9a11")
	for i := range 3 {
		hr := sample().Results[0]
		hr.ID = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("scan", i)))
		hr.Host.ID = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("host", i)))
		hr.Host.Hostname = fmt.Sprintf("web-%d.example.org", i+2)
		hr.Host.Address = fmt.Sprintf("2001:db8::%d", i+1)
		a.Results = append(a.Results, hr)
	}
	ar, err := oscal.AssessmentResults(context.Background(), a)
	require.NoError(t, err)
	requireValid(t, ar)
	ap, err := oscal.AssessmentPlan(context.Background(), a)
	require.NoError(t, err)
	requireValid(t, ap)
	doc := decode(t, ar)
	results := at(doc, "assessment-results", "results").([]any)
	require.Len(t, results, 4)
	subjects := map[any]bool{}
	for _, r := range results {
		item := at(r, "local-definitions", "inventory-items", 0, "uuid")
		subjects[item] = true
		for _, o := range at(r, "observations").([]any) {
			require.Equal(t, item, at(o, "subjects", 0, "subject-uuid"))
		}
	}
	require.Len(t, subjects, 4)
	requireUniqueUUIDs(t, doc)
	requireUniqueUUIDs(t, decode(t, ap))
	require.Contains(t, at(results[1], "local-definitions", "inventory-items", 0, "props"), map[string]any{"name": "ipv6-address", "value": "2001:db8::1"})
	require.Len(t, at(decode(t, ap), "assessment-plan", "assessment-subjects", 0, "include-subjects"), 4)
	require.Len(t, at(decode(t, ap), "assessment-plan", "tasks"), 4)
}

// requireUniqueUUIDs fails unless every uuid of the decoded document is unique.
func requireUniqueUUIDs(t *testing.T, doc map[string]any) {
	t.Helper()
	seen := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if u, ok := x["uuid"].(string); ok {
				require.NotContains(t, seen, u, "%s and %s", path, seen[u])
				seen[u] = path
			}
			for k, e := range x {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("", doc)
	require.Greater(t, len(seen), 10)
}

// TestSources: an assessment's sources are back-matter resources of both documents, with
// their properties and a SHA-256 digest on each link, and the documents stay valid.
func TestSources(t *testing.T) {
	t.Parallel()
	a := sample()
	a.Sources = []oscal.Source{{Title: "Signed report", Description: "The signed original.",
		Props: []oscal.SourceProp{{Name: "report-id", Value: scanID.String()}, {Name: "signing-key-id", Value: "k1"}},
		Links: []oscal.SourceLink{{Href: "/api/v1/reports/x/export?format=json", MediaType: "application/json",
			SHA256: strings.Repeat("ab", 32)}}}}
	for _, build := range []func(context.Context, oscal.Assessment) ([]byte, error){oscal.AssessmentResults, oscal.AssessmentPlan} {
		b, err := build(context.Background(), a)
		require.NoError(t, err)
		requireValid(t, b)
		doc := decode(t, b)
		var root string
		for k := range doc {
			root = k
		}
		res := at(doc, root, "back-matter", "resources").([]any)
		last := res[len(res)-1].(map[string]any)
		require.Equal(t, "Signed report", last["title"])
		require.Equal(t, strings.Repeat("ab", 32), at(last, "rlinks", 0, "hashes", 0, "value"))
		require.Equal(t, "SHA-256", at(last, "rlinks", 0, "hashes", 0, "algorithm"))
		require.Equal(t, "k1", at(last, "props", 1, "value"))
		again, err := build(context.Background(), a)
		require.NoError(t, err)
		require.Equal(t, b, again)
	}
	b, err := oscal.AssessmentResults(context.Background(), sample())
	require.NoError(t, err)
	require.NotContains(t, decode(t, b)["assessment-results"], "back-matter", "no source, no back matter")
}
