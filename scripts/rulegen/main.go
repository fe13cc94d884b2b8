// Command rulegen imports compliance control facts into OpenWatch rule files: one
// internal/rule/corpus/<id>.yaml per control that has at least one typed check.
//
// The facts (a JSON array of controls: framework references, typed check parameters,
// capability guards, remediation mechanism names, variables; no prose and no code) come
// from outside the repository. The prose (title, description, rationale) is ours, in
// YAML files mapping a rule id to those three texts. After the import the rule files are
// the source: edit them, not this tool's input. Running it again overwrites the files it
// generates and leaves other files alone.
//
//	go run ./scripts/rulegen -facts FACTS.json -texts DIR [-out internal/rule/corpus]
//
// What it decides, beyond copying facts:
//   - Implementations whose check is a shell command or a set comparison are left out:
//     only typed checks are imported. A rule left with no typed implementation is skipped.
//   - A rule scoped to Ubuntu, or with an apt-guarded implementation whose package names
//     all exist in Debian 12 (asked of apt-cache, when the machine has it), also lists
//     Debian 12. A rule left with only apt-guarded implementations lists only the apt
//     families.
//   - sshd keywords where a lower number is stricter compare with <=.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/openwatch/openwatch/internal/rule"
)

type facts struct {
	Concept         string         `json:"concept"`
	Severity        string         `json:"severity"`
	Category        string         `json:"category"`
	Platforms       []factPlatform `json:"platforms"`
	Frameworks      factFrameworks `json:"frameworks"`
	Implementations []factImpl     `json:"implementations"`
	Vars            map[string]any `json:"vars"`
	DependsOn       []string       `json:"depends_on"`
	ConflictsWith   []string       `json:"conflicts_with"`
	Supersedes      []string       `json:"supersedes"`
}

type factPlatform struct {
	Family     string `json:"family"`
	MinVersion *int   `json:"min_version"`
	MaxVersion *int   `json:"max_version"`
}

type factFrameworks struct {
	CIS  map[string][]rule.CISRef `json:"cis"`
	STIG map[string][]struct {
		VulnID string   `json:"vuln_id"`
		STIGID string   `json:"stig_id"`
		CAT    string   `json:"cat"`
		CCI    []string `json:"cci"`
	} `json:"stig"`
	NIST80053  []string `json:"nist_800_53"`
	NIST800171 []string `json:"nist_800_171"`
	PCIDSS4    []string `json:"pci_dss_4"`
	SRG        []string `json:"srg"`
}

type factImpl struct {
	Guard       json.RawMessage `json:"guard"`
	Check       map[string]any  `json:"check"`
	Remediation json.RawMessage `json:"remediation_mechanism"`
}

type texts struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Rationale   string `yaml:"rationale"`
}

// lowerIsStricter lists sshd keywords whose expected value is a maximum.
var lowerIsStricter = map[string]bool{"maxauthtries": true, "clientaliveinterval": true, "logingracetime": true, "maxsessions": true}

func main() {
	factsPath := flag.String("facts", "", "the control facts (JSON)")
	textsDir := flag.String("texts", "", "directory of YAML files: rule id -> title, description, rationale")
	out := flag.String("out", "internal/rule/corpus", "where the rule files go")
	flag.Parse()
	if err := run(*factsPath, *textsDir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "rulegen:", err)
		os.Exit(1)
	}
}

func run(factsPath, textsDir, out string) error {
	data, err := os.ReadFile(factsPath)
	if err != nil {
		return err
	}
	var all []facts
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("%s: %w", factsPath, err)
	}
	prose, err := readTexts(textsDir)
	if err != nil {
		return err
	}
	var rules []*rule.Rule
	var skipped, untexted []string
	for _, f := range all {
		r, err := convert(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Concept, err)
		}
		if r == nil {
			skipped = append(skipped, f.Concept)
			continue
		}
		t, ok := prose[f.Concept]
		if !ok {
			untexted = append(untexted, f.Concept)
			continue
		}
		r.Title, r.Description, r.Rationale = t.Title, strings.TrimSpace(t.Description), strings.TrimSpace(t.Rationale)
		rules = append(rules, r)
	}
	// Relations may only name imported rules.
	ids := map[string]bool{}
	for _, r := range rules {
		ids[r.ID] = true
	}
	for _, r := range rules {
		r.DependsOn = keep(r.DependsOn, ids)
		r.ConflictsWith = keep(r.ConflictsWith, ids)
		r.Supersedes = keep(r.Supersedes, ids)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, r := range rules {
		b, err := rule.Marshal(r)
		if err != nil {
			return fmt.Errorf("%s: %w", r.ID, err)
		}
		name := filepath.Join(out, r.ID+".yaml")
		if _, err := rule.Parse(name, b); err != nil {
			return fmt.Errorf("generated rule does not parse: %w", err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("rulegen: %d rules written, %d controls without a typed check, %d without texts %v\n",
		len(rules), len(skipped), len(untexted), untexted)
	return nil
}

func keep(list []string, ids map[string]bool) []string {
	var out []string
	for _, id := range list {
		if ids[id] {
			out = append(out, id)
		}
	}
	return out
}

func readTexts(dir string) (map[string]texts, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	all := map[string]texts{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]texts
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for k, v := range m {
			all[k] = v
		}
	}
	return all, nil
}

// convert returns the rule for a control, or nil when it has no typed check.
func convert(f facts) (*rule.Rule, error) {
	r := &rule.Rule{
		ID:            f.Concept,
		Severity:      rule.Severity(f.Severity),
		Category:      f.Category,
		DependsOn:     f.DependsOn,
		ConflictsWith: f.ConflictsWith,
		Supersedes:    f.Supersedes,
	}
	var aptPackages []string
	for _, im := range f.Implementations {
		check, ok, err := convertCheck(im.Check)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		guard, err := convertGuard(im.Guard)
		if err != nil {
			return nil, err
		}
		var mech rule.Names
		if err := json.Unmarshal(im.Remediation, &mech); err != nil {
			var one string
			if err := json.Unmarshal(im.Remediation, &one); err != nil {
				return nil, fmt.Errorf("remediation_mechanism: %w", err)
			}
			mech = rule.Names{one}
		}
		if guard != nil && slices.Equal(guard.All, []string{"apt"}) {
			check.Walk(func(c *rule.Check) {
				if p, ok := c.Params.(*rule.PackageState); ok {
					aptPackages = append(aptPackages, p.Name)
				}
			})
		}
		r.Implementations = append(r.Implementations, rule.Implementation{When: guard, Check: check, Remediation: mech})
	}
	if len(r.Implementations) == 0 {
		return nil, nil
	}
	hasDefault := r.Implementations[len(r.Implementations)-1].When == nil
	onlyApt := !hasDefault
	for _, im := range r.Implementations {
		if im.When != nil && !slices.Equal(im.When.All, []string{"apt"}) {
			onlyApt = false
		}
	}
	families := map[string]bool{}
	for _, p := range f.Platforms {
		if onlyApt && p.Family == "rhel" {
			continue
		}
		rp := rule.Platform{Family: p.Family}
		if p.MinVersion != nil {
			rp.MinVersion = rule.Version(fmt.Sprint(*p.MinVersion))
		}
		if p.MaxVersion != nil {
			rp.MaxVersion = rule.Version(fmt.Sprint(*p.MaxVersion))
		}
		r.Platforms = append(r.Platforms, rp)
		families[p.Family] = true
	}
	aptOK := len(aptPackages) > 0 && inDebian(aptPackages)
	if aptOK && !families["ubuntu"] {
		r.Platforms = append(r.Platforms, rule.Platform{Family: "ubuntu", MinVersion: "22"})
		families["ubuntu"] = true
	}
	if families["ubuntu"] && (aptOK || len(aptPackages) == 0) {
		r.Platforms = append(r.Platforms, rule.Platform{Family: "debian", MinVersion: "12"})
	}
	if len(r.Platforms) == 0 {
		return nil, nil
	}
	sort.SliceStable(r.Platforms, func(i, j int) bool { return familyOrder(r.Platforms[i].Family) < familyOrder(r.Platforms[j].Family) })

	fw := f.Frameworks
	r.References = rule.References{CIS: fw.CIS, NIST80053: fw.NIST80053, NIST800171: fw.NIST800171, PCIDSS4: fw.PCIDSS4, SRG: fw.SRG}
	if len(fw.STIG) > 0 {
		r.References.STIG = map[string][]rule.STIGRef{}
		for b, list := range fw.STIG {
			for _, e := range list {
				r.References.STIG[b] = append(r.References.STIG[b], rule.STIGRef{VulnID: e.VulnID, STIGID: e.STIGID, CAT: e.CAT, CCI: e.CCI})
			}
		}
	}
	used := map[string]bool{}
	for _, im := range r.Implementations {
		im.Check.Walk(func(c *rule.Check) {
			b, _ := yaml.Marshal(c.Params)
			for _, v := range rule.UsedVariables(string(b)) {
				used[v] = true
			}
		})
	}
	for name, def := range f.Vars {
		if !used[name] {
			continue
		}
		if r.Variables == nil {
			r.Variables = map[string]rule.Variable{}
		}
		v := rule.Variable{}
		if def != nil {
			s := fmt.Sprint(def)
			v.Default = &s
		}
		r.Variables[name] = v
	}
	return r, nil
}

func familyOrder(f string) int { return slices.Index(rule.Families, f) }

// convertCheck maps a fact check onto a typed check; ok is false for command and
// set_compare checks (and composites holding one).
func convertCheck(c map[string]any) (rule.Check, bool, error) {
	if subs, ok := c["all_of"].([]any); ok {
		out := rule.Check{}
		for _, s := range subs {
			sc, ok, err := convertCheck(s.(map[string]any))
			if err != nil || !ok {
				return rule.Check{}, ok, err
			}
			out.AllOf = append(out.AllOf, sc)
		}
		return out, true, nil
	}
	method, _ := c["method"].(string)
	switch method {
	case "command", "set_compare":
		return rule.Check{}, false, nil
	}
	params := map[string]any{}
	for k, v := range c {
		if k == "method" {
			continue
		}
		switch k {
		case "expected_content":
			k = "expected"
		}
		switch x := v.(type) {
		case float64:
			v = fmt.Sprint(x)
		}
		params[k] = v
	}
	if method == "sshd_effective_config" && lowerIsStricter[fmt.Sprint(params["key"])] {
		params["comparator"] = "<="
	}
	params["method"] = method
	b, err := json.Marshal(params) // JSON is YAML
	if err != nil {
		return rule.Check{}, false, err
	}
	check, err := rule.ParseCheck(b)
	if err != nil {
		return rule.Check{}, false, fmt.Errorf("%s: %w", b, err)
	}
	return check, true, nil
}

func convertGuard(raw json.RawMessage) (*rule.Guard, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "default" {
			return nil, nil
		}
		return &rule.Guard{All: []string{s}}, nil
	}
	var all struct {
		All []string `json:"all"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("guard %s: %w", raw, err)
	}
	return &rule.Guard{All: all.All}, nil
}

// inDebian reports whether apt-cache knows every package (false without apt-cache).
func inDebian(names []string) bool {
	for _, n := range names {
		out, err := exec.Command("apt-cache", "policy", n).Output()
		if err != nil || !strings.Contains(string(out), "Candidate:") || strings.Contains(string(out), "Candidate: (none)") {
			return false
		}
	}
	return true
}
