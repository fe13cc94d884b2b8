package scan

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
)

type scanRow = dbq.Scan

func toScan(r dbq.Scan) api.Scan {
	s := api.Scan{
		Id: r.ID, HostId: r.HostID, BatchId: r.BatchID, Status: api.ScanStatus(r.Status), Trigger: api.ScanTrigger(r.Trigger),
		Framework: r.Framework, RequestedBy: r.RequestedBy, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, RulesTotal: int(r.RulesTotal), Changed: int(r.ChangedCount), Sessions: int(r.Sessions),
		Privilege: r.Privilege,
		Counts:    api.ResultCounts{Pass: int(r.PassCount), Fail: int(r.FailCount), Skipped: int(r.SkippedCount), Error: int(r.ErrorCount)},
	}
	if r.RuleIds != nil {
		ids := r.RuleIds
		s.RuleIds = &ids
	}
	s.Progress.RecordsDone, s.Progress.RecordsTotal = int(r.RecordsDone), int(r.RecordsTotal)
	s.Platform.Family, s.Platform.Version = r.OsFamily, r.OsVersion
	if r.StartedAt != nil && r.FinishedAt != nil {
		ms := int(r.FinishedAt.Sub(*r.StartedAt).Milliseconds())
		s.DurationMs = &ms
	}
	if r.Error != "" {
		e := r.Error
		s.Error = &e
	}
	return s
}

func toResult(r Result) api.ScanResult {
	return api.ScanResult{RuleId: r.RuleID, Title: r.Title, Severity: api.RuleSeverity(r.Severity),
		Status: api.ResultStatus(r.Status), Reason: r.Reason, ChangedAt: r.ChangedAt, ExceptionId: r.ExceptionID}
}

func toEvidence(ev *engine.Evidence) *api.EvidenceCheck {
	if ev == nil {
		return nil
	}
	out := &api.EvidenceCheck{
		Method: ev.Method, Status: api.ResultStatus(ev.Status), Parameters: ev.Parameters, Commands: ev.Commands,
		Output: ev.Output, Truncated: ev.Truncated, Expected: ev.Expected, Actual: ev.Actual,
		Variables: ev.Variables, DurationMs: float32(ev.DurationMS),
	}
	if out.Parameters == nil {
		out.Parameters = map[string]any{}
	}
	if out.Commands == nil {
		out.Commands = []string{}
	}
	if out.Variables == nil {
		out.Variables = map[string]string{}
	}
	if len(ev.Checks) > 0 {
		checks := make([]api.EvidenceCheck, len(ev.Checks))
		for i, c := range ev.Checks {
			checks[i] = *toEvidence(c)
		}
		out.Checks = &checks
	}
	return out
}

func toPlatforms(ps []rule.Platform) []api.PlatformRange {
	out := make([]api.PlatformRange, len(ps))
	for i, p := range ps {
		out[i] = api.PlatformRange{Family: api.PlatformRangeFamily(p.Family)}
		if p.MinVersion != "" {
			v := string(p.MinVersion)
			out[i].MinVersion = &v
		}
		if p.MaxVersion != "" {
			v := string(p.MaxVersion)
			out[i].MaxVersion = &v
		}
	}
	return out
}

func toRuleSummary(r *rule.Rule) api.RuleSummary {
	return api.RuleSummary{Id: r.ID, Title: r.Title, Severity: api.RuleSeverity(r.Severity), Category: api.RuleCategory(r.Category),
		Platforms: toPlatforms(r.Platforms), Frameworks: orEmpty(r.FrameworkIDs()), Methods: r.Methods()}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// jsonObject converts a value to a JSON object through its YAML/JSON shape.
func jsonObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkObject renders a check as the rule file writes it: method and parameters, or all_of.
func checkObject(c rule.Check) (map[string]any, error) {
	if c.AllOf != nil {
		parts := make([]any, len(c.AllOf))
		for i, p := range c.AllOf {
			m, err := checkObject(p)
			if err != nil {
				return nil, err
			}
			parts[i] = m
		}
		return map[string]any{"all_of": parts}, nil
	}
	m := map[string]any{"method": c.Method}
	params, err := paramsObject(c.Params)
	if err != nil {
		return nil, err
	}
	maps.Copy(m, params)
	return m, nil
}

// paramsObject renders a check's parameters under their rule-file names.
func paramsObject(p any) (map[string]any, error) {
	node, err := rule.ParamsMap(p)
	if err != nil {
		return nil, fmt.Errorf("render check parameters: %w", err)
	}
	return node, nil
}

func toRuleDetail(r *rule.Rule, values map[string]*string) (api.RuleDetail, error) {
	refs, err := jsonObject(referencesJSON(r.References))
	if err != nil {
		return api.RuleDetail{}, err
	}
	d := api.RuleDetail{
		Id: r.ID, Title: r.Title, Description: r.Description, Rationale: r.Rationale,
		Severity: api.RuleSeverity(r.Severity), Category: api.RuleCategory(r.Category),
		Platforms: toPlatforms(r.Platforms), Frameworks: orEmpty(r.FrameworkIDs()), Methods: r.Methods(),
		References: refs, DependsOn: orEmpty(r.DependsOn), ConflictsWith: orEmpty(r.ConflictsWith),
		Supersedes: orEmpty(r.Supersedes), Variables: []api.RuleVariable{}, Implementations: []api.RuleImplementation{},
	}
	for _, name := range slices.Sorted(maps.Keys(r.Variables)) {
		d.Variables = append(d.Variables, api.RuleVariable{Name: name, Default: r.Variables[name].Default, Value: values[name]})
	}
	for _, im := range r.Implementations {
		check, err := checkObject(im.Check)
		if err != nil {
			return api.RuleDetail{}, err
		}
		out := api.RuleImplementation{Check: check, Remediation: im.Remediation}
		if im.When != nil {
			w := im.When.String()
			out.When = &w
		}
		d.Implementations = append(d.Implementations, out)
	}
	return d, nil
}

// referencesJSON is the references with the rule file's names.
func referencesJSON(refs rule.References) any {
	type cis struct {
		Section string `json:"section"`
		Level   string `json:"level"`
		Type    string `json:"type"`
	}
	type stig struct {
		VulnID string   `json:"vuln_id"`
		STIGID string   `json:"stig_id,omitempty"`
		CAT    string   `json:"cat"`
		CCI    []string `json:"cci,omitempty"`
	}
	out := map[string]any{}
	if len(refs.CIS) > 0 {
		m := map[string][]cis{}
		for b, list := range refs.CIS {
			for _, e := range list {
				m[b] = append(m[b], cis{e.Section, e.Level, e.Type})
			}
		}
		out["cis"] = m
	}
	if len(refs.STIG) > 0 {
		m := map[string][]stig{}
		for b, list := range refs.STIG {
			for _, e := range list {
				m[b] = append(m[b], stig{e.VulnID, e.STIGID, e.CAT, e.CCI})
			}
		}
		out["stig"] = m
	}
	for k, v := range map[string][]string{"nist_800_53": refs.NIST80053, "nist_800_171": refs.NIST800171, "pci_dss_4": refs.PCIDSS4, "srg": refs.SRG} {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func toFramework(f *Framework) api.Framework {
	out := api.Framework{Id: f.ID, Name: f.Name, Family: f.Family, RuleCount: len(f.Rules)}
	if f.Benchmark != "" {
		b := f.Benchmark
		out.Benchmark = &b
	}
	for _, r := range f.Rules {
		fams := map[string]bool{}
		for _, p := range r.Platforms {
			fams[p.Family] = true
		}
		if fams["debian"] {
			out.Platforms.Debian++
		}
		if fams["ubuntu"] {
			out.Platforms.Ubuntu++
		}
		if fams["rhel"] {
			out.Platforms.Rhel++
		}
	}
	return out
}

func toVariables(vars []VariableValue) api.ScanVariables {
	out := api.ScanVariables{Items: make([]api.ScanVariable, len(vars))}
	for i, v := range vars {
		out.Items[i] = api.ScanVariable{Name: v.Name, Description: v.Description, Default: v.Default, Value: v.Value, Rules: v.Rules}
	}
	return out
}
