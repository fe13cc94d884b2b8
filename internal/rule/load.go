package rule

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Parse decodes one rule file. name is the file's path as errors should show it; the file
// name (without .yaml) must be the rule's id. Relations to other rules are checked by
// NewCorpus.
func Parse(name string, data []byte) (*Rule, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: one rule per file: a second document starts here", name, extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	root := doc.Content[0]
	r := &Rule{}
	if err := decodeNode(root, reflect.ValueOf(r).Elem()); err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.Source = fmt.Sprintf("%s:%d", name, root.Line)
	if err := r.validate(name, keyLines(root)); err != nil {
		return nil, err
	}
	return r, nil
}

// keyLines maps the top-level keys to their lines, and "implementations.N" to the line of
// the N-th implementation.
func keyLines(root *yaml.Node) map[string]int {
	lines := map[string]int{"": root.Line}
	if root.Kind != yaml.MappingNode {
		return lines
	}
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		lines[k.Value] = k.Line
		if k.Value == "implementations" && v.Kind == yaml.SequenceNode {
			for j, item := range v.Content {
				lines[fmt.Sprintf("implementations.%d", j)] = item.Line
				for k := 0; item.Kind == yaml.MappingNode && k+1 < len(item.Content); k += 2 {
					lines[fmt.Sprintf("implementations.%d.%s", j, item.Content[k].Value)] = item.Content[k].Line
				}
			}
		}
	}
	return lines
}

// validate checks what the types cannot say.
func (r *Rule) validate(name string, lines map[string]int) error {
	at := func(key string) int {
		if l, ok := lines[key]; ok {
			return l
		}
		return lines[""]
	}
	required := map[string]string{"id": r.ID, "title": r.Title, "description": r.Description,
		"rationale": r.Rationale, "severity": string(r.Severity), "category": r.Category}
	for _, key := range []string{"id", "title", "description", "rationale", "severity", "category"} {
		if strings.TrimSpace(required[key]) == "" {
			return errorf(name, at(key), "%s is required", key)
		}
	}
	if !ValidID(r.ID) {
		return errorf(name, at("id"), "id %q is not lowercase letters, digits, '-' and '_'", r.ID)
	}
	if base := strings.TrimSuffix(path.Base(name), ".yaml"); base != r.ID {
		return errorf(name, at("id"), "id %q differs from the file name %q", r.ID, base)
	}
	if len(r.Title) > 120 || strings.Contains(r.Title, "\n") {
		return errorf(name, at("title"), "title is one line of at most 120 characters")
	}
	if r.Severity.Rank() == 0 {
		return errorf(name, at("severity"), "severity %q is not one of critical, high, medium, low", r.Severity)
	}
	if !contains(Categories, r.Category) {
		return errorf(name, at("category"), "category %q is not one of %s", r.Category, strings.Join(Categories, ", "))
	}
	if len(r.Platforms) == 0 {
		return errorf(name, at("platforms"), "platforms is required")
	}
	for _, p := range r.Platforms {
		if !contains(Families, p.Family) {
			return errorf(name, at("platforms"), "platform family %q is not one of %s", p.Family, strings.Join(Families, ", "))
		}
		if p.MinVersion != "" && p.MaxVersion != "" && p.MinVersion.Compare(p.MaxVersion) > 0 {
			return errorf(name, at("platforms"), "%s: min_version %s is above max_version %s", p.Family, p.MinVersion, p.MaxVersion)
		}
	}
	if err := r.References.validate(); err != nil {
		return errorf(name, at("references"), "%v", err)
	}
	if len(r.Implementations) == 0 {
		return errorf(name, at("implementations"), "implementations is required")
	}
	used := map[string]bool{}
	for i, im := range r.Implementations {
		line := at(fmt.Sprintf("implementations.%d", i))
		if im.When == nil && i != len(r.Implementations)-1 {
			return errorf(name, line, "the implementation without a guard (when) must be the last one")
		}
		if im.Check.Method == "" && im.Check.AllOf == nil {
			return errorf(name, line, "check is required")
		}
		if len(im.Remediation) == 0 {
			return errorf(name, line, "remediation is required (a mechanism name, or manual)")
		}
		for _, m := range im.Remediation {
			if !contains(Mechanisms, m) {
				return errorf(name, at(fmt.Sprintf("implementations.%d.remediation", i)), "unknown remediation mechanism %q (known: %s)", m, strings.Join(Mechanisms, ", "))
			}
		}
		var missing string
		im.Check.walk(func(c *Check) {
			for _, s := range c.strings() {
				for _, v := range UsedVariables(s) {
					used[v] = true
					if _, ok := r.Variables[v]; !ok && missing == "" {
						missing = v
					}
				}
			}
		})
		if missing != "" {
			return errorf(name, line, "the check uses {{ %s }}, which variables does not declare", missing)
		}
	}
	for v := range r.Variables {
		if !used[v] {
			return errorf(name, at("variables"), "variable %q is declared but no check uses it", v)
		}
	}
	for key, ids := range map[string][]string{"depends_on": r.DependsOn, "conflicts_with": r.ConflictsWith, "supersedes": r.Supersedes} {
		for _, id := range ids {
			if id == r.ID {
				return errorf(name, at(key), "%s names the rule itself", key)
			}
		}
	}
	return nil
}

func (refs *References) validate() error {
	for b, list := range refs.CIS {
		if !contains(Benchmarks, b) {
			return fmt.Errorf("cis benchmark %q is not one of %s", b, strings.Join(Benchmarks, ", "))
		}
		for _, e := range list {
			if e.Section == "" || !contains([]string{"L1", "L2"}, e.Level) || !contains([]string{"Automated", "Manual"}, e.Type) {
				return fmt.Errorf("cis %s: an entry needs a section, level L1 or L2, and type Automated or Manual", b)
			}
		}
	}
	for b, list := range refs.STIG {
		if !contains(Benchmarks, b) {
			return fmt.Errorf("stig benchmark %q is not one of %s", b, strings.Join(Benchmarks, ", "))
		}
		for _, e := range list {
			if !strings.HasPrefix(e.VulnID, "V-") || !contains([]string{"CAT I", "CAT II", "CAT III"}, e.CAT) {
				return fmt.Errorf("stig %s: an entry needs a vuln_id V-... and cat CAT I, CAT II or CAT III", b)
			}
		}
	}
	return nil
}

// Corpus is a validated set of rules.
type Corpus struct {
	rules []*Rule // by id
	byID  map[string]*Rule
}

// NewCorpus checks that ids are unique and that every relation names a rule of the set.
func NewCorpus(rules []*Rule) (*Corpus, error) {
	c := &Corpus{byID: make(map[string]*Rule, len(rules))}
	for _, r := range rules {
		if prev, ok := c.byID[r.ID]; ok {
			return nil, fmt.Errorf("%s: rule %q is also defined at %s", r.Source, r.ID, prev.Source)
		}
		c.byID[r.ID] = r
	}
	for _, r := range rules {
		for _, rel := range [][]string{r.DependsOn, r.ConflictsWith, r.Supersedes} {
			for _, id := range rel {
				if _, ok := c.byID[id]; !ok {
					return nil, fmt.Errorf("%s: relation to rule %q, which does not exist", r.Source, id)
				}
			}
		}
	}
	c.rules = slices.Clone(rules)
	sort.Slice(c.rules, func(i, j int) bool { return c.rules[i].ID < c.rules[j].ID })
	return c, nil
}

// LoadFS parses every *.yaml file under dir of fsys into a corpus. It reports every bad
// file, not only the first.
func LoadFS(fsys fs.FS, dir string) (*Corpus, error) {
	var rules []*Rule
	var errs []error
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		r, err := Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewCorpus(rules)
}

// All returns the rules sorted by id. The slice and rules are shared: do not modify.
func (c *Corpus) All() []*Rule { return c.rules }

// Get returns a rule by id.
func (c *Corpus) Get(id string) (*Rule, bool) {
	r, ok := c.byID[id]
	return r, ok
}

// Len is the number of rules.
func (c *Corpus) Len() int { return len(c.rules) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func sortStrings(s []string) { slices.Sort(s) }

// ParseCheck decodes one check, the value of an implementation's check key, with the
// same strictness as a rule file (variables are checked only within a rule).
func ParseCheck(data []byte) (Check, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Check{}, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return Check{}, errors.New("empty check")
	}
	var c Check
	if err := decodeCheck(doc.Content[0], &c); err != nil {
		return Check{}, err
	}
	return c, nil
}
