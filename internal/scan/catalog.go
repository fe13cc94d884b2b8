package scan

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/openwatch/openwatch/internal/rule"
)

// FrameworkAll is the framework id that stands for every rule.
const FrameworkAll = "all"

// Framework describes one framework (or benchmark) rules map to.
type Framework struct {
	ID        string // cis-rhel9, stig-ubuntu22, nist-800-53, ...
	Name      string
	Family    string // cis, stig, nist-800-53, nist-800-171, pci-dss-4, srg, all
	Benchmark string // the CIS or STIG benchmark key, "" for the others
	Rules     []*rule.Rule
}

var benchmarkNames = map[string]string{
	"rhel8": "Red Hat Enterprise Linux 8", "rhel9": "Red Hat Enterprise Linux 9", "rhel10": "Red Hat Enterprise Linux 10",
	"ubuntu22": "Ubuntu 22.04 LTS", "ubuntu24": "Ubuntu 24.04 LTS",
}

var frameworkNames = map[string]string{
	FrameworkAll:   "Every rule",
	"nist-800-53":  "NIST SP 800-53 Rev. 5",
	"nist-800-171": "NIST SP 800-171",
	"pci-dss-4":    "PCI DSS v4.0",
	"srg":          "DISA SRG, General Purpose Operating System",
}

// Catalog is the rule corpus indexed for scans and for the API: rules by id and by
// framework, and each rule's frameworks. A catalog made by LoadCatalog parses the corpus
// on first use (a few tens of milliseconds that start-up need not wait for).
type Catalog struct {
	once        sync.Once
	load        func() (*rule.Corpus, error)
	err         error
	corpus      *rule.Corpus
	frameworks  []*Framework // by id
	byID        map[string]*Framework
	frameworkOf map[string][]string // rule id -> framework ids, "all" first
}

// NewCatalog indexes a corpus.
func NewCatalog(c *rule.Corpus) *Catalog {
	cat := &Catalog{}
	cat.once.Do(func() { cat.index(c) })
	return cat
}

// LoadCatalog returns a catalog of the corpus load returns, loaded on first use (or by
// Warm). A corpus that does not load leaves the catalog empty and every Select failing
// with the error (the corpus test keeps that from shipping).
func LoadCatalog(load func() (*rule.Corpus, error)) *Catalog { return &Catalog{load: load} }

// Warm loads the corpus now.
func (c *Catalog) Warm() error {
	c.ready()
	return c.err
}

func (c *Catalog) ready() {
	c.once.Do(func() {
		corpus, err := c.load()
		if err != nil {
			c.err = fmt.Errorf("load the rule corpus: %w", err)
			corpus, _ = rule.NewCorpus(nil)
		}
		c.index(corpus)
	})
}

func (cat *Catalog) index(c *rule.Corpus) {
	cat.corpus, cat.byID, cat.frameworkOf = c, map[string]*Framework{}, map[string][]string{}
	add := func(id string, r *rule.Rule) {
		f, ok := cat.byID[id]
		if !ok {
			f = &Framework{ID: id, Family: id}
			if fam, bench, ok := strings.Cut(id, "-"); ok && (fam == "cis" || fam == "stig") {
				f.Family, f.Benchmark = fam, bench
				prefix := "CIS Benchmark for "
				if fam == "stig" {
					prefix = "DISA STIG for "
				}
				f.Name = prefix + benchmarkNames[bench]
			} else {
				f.Name = frameworkNames[id]
			}
			cat.byID[id] = f
			cat.frameworks = append(cat.frameworks, f)
		}
		f.Rules = append(f.Rules, r)
		cat.frameworkOf[r.ID] = append(cat.frameworkOf[r.ID], id)
	}
	for _, r := range c.All() {
		add(FrameworkAll, r)
		for _, id := range r.FrameworkIDs() {
			add(id, r)
		}
	}
	slices.SortFunc(cat.frameworks, func(a, b *Framework) int { return strings.Compare(a.ID, b.ID) })
}

// Rules returns every rule, by id.
func (c *Catalog) Rules() []*rule.Rule {
	c.ready()
	return c.corpus.All()
}

// Rule returns a rule by id.
func (c *Catalog) Rule(id string) (*rule.Rule, bool) {
	c.ready()
	return c.corpus.Get(id)
}

// Frameworks returns the frameworks, by id ("all" among them).
func (c *Catalog) Frameworks() []*Framework {
	c.ready()
	return c.frameworks
}

// Framework returns a framework by id.
func (c *Catalog) Framework(id string) (*Framework, bool) {
	c.ready()
	f, ok := c.byID[id]
	return f, ok
}

// FrameworksOf returns the ids of the frameworks a rule belongs to, "all" included.
func (c *Catalog) FrameworksOf(ruleID string) []string {
	c.ready()
	return c.frameworkOf[ruleID]
}

// Select returns the rules a scan evaluates: those of a framework, or the listed ids, or
// every rule. An unknown framework or rule id is an error naming it.
func (c *Catalog) Select(framework string, ruleIDs []string) ([]*rule.Rule, error) {
	c.ready()
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case framework != "" && len(ruleIDs) > 0:
		return nil, fmt.Errorf("give a framework or rule ids, not both")
	case framework != "":
		f, ok := c.byID[framework]
		if !ok {
			return nil, &UnknownError{Field: "framework", Value: framework}
		}
		return f.Rules, nil
	case len(ruleIDs) > 0:
		out := make([]*rule.Rule, 0, len(ruleIDs))
		seen := map[string]bool{}
		for _, id := range ruleIDs {
			r, ok := c.corpus.Get(id)
			if !ok {
				return nil, &UnknownError{Field: "rule_ids", Value: id}
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, r)
			}
		}
		return out, nil
	}
	return c.corpus.All(), nil
}

// UnknownError names a framework or rule id the catalog does not have.
type UnknownError struct {
	Field, Value string
}

func (e *UnknownError) Error() string { return fmt.Sprintf("%s: unknown %q", e.Field, e.Value) }

// Variable is a rule variable of the corpus: its default, description and the rules that
// use it.
type Variable struct {
	Name        string
	Default     *string
	Description string
	Rules       []string
}

// Variables returns the corpus's variables by name. A variable several rules declare has
// one default (the corpus test checks they agree).
func (c *Catalog) Variables() []Variable {
	c.ready()
	byName := map[string]*Variable{}
	for _, r := range c.corpus.All() {
		for name, v := range r.Variables {
			cur, ok := byName[name]
			if !ok {
				cur = &Variable{Name: name, Default: v.Default, Description: v.Description}
				byName[name] = cur
			}
			if cur.Description == "" {
				cur.Description = v.Description
			}
			cur.Rules = append(cur.Rules, r.ID)
		}
	}
	out := make([]Variable, 0, len(byName))
	for _, v := range byName {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b Variable) int { return strings.Compare(a.Name, b.Name) })
	return out
}
