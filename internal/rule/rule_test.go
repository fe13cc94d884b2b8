package rule_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/rule"
)

// good is a valid rule; the cases below break one thing each.
const good = `id: good-rule
title: A good rule
description: Checks one thing.
rationale: Because.
severity: medium
category: system
platforms:
  - family: debian
    min_version: 12
  - family: rhel
    min_version: 8
    max_version: 9
references:
  cis:
    rhel8:
      - {section: 1.2.3, level: L1, type: Automated}
  nist_800_53: [CM-6]
variables:
  max_days: 60
implementations:
  - when: apt
    check:
      method: config_value
      path: /etc/login.defs
      key: PASS_MAX_DAYS
      expected: "{{ max_days }}"
      comparator: "<="
      delimiter: " "
    remediation: config_set
  - check:
      all_of:
        - {method: package_state, name: shadow-utils, state: present}
        - {method: file_permission, path: /etc/shadow, mode: "0000", owner: root}
    remediation: [package_present, file_permissions]
`

func TestParseGoodRule(t *testing.T) {
	r, err := rule.Parse("corpus/good-rule.yaml", []byte(good))
	require.NoError(t, err)
	require.Equal(t, "good-rule", r.ID)
	require.Equal(t, rule.SeverityMedium, r.Severity)
	require.Equal(t, "corpus/good-rule.yaml:1", r.Source)
	require.Len(t, r.Implementations, 2)
	require.Equal(t, []string{"apt"}, r.Implementations[0].When.All)
	cv := r.Implementations[0].Check.Params.(*rule.ConfigValue)
	require.Equal(t, "{{ max_days }}", cv.Expected)
	require.Equal(t, "60", *r.Variables["max_days"].Default)
	require.Len(t, r.Implementations[1].Check.AllOf, 2)
	require.Equal(t, rule.Names{"package_present", "file_permissions"}, r.Implementations[1].Remediation)
	require.Equal(t, []string{"cis-rhel8", "nist-800-53"}, r.FrameworkIDs())
	require.Equal(t, []string{"config_value", "file_permission", "package_state"}, r.Methods())

	// Marshal gives back what Parse read.
	b, err := rule.Marshal(r)
	require.NoError(t, err)
	again, err := rule.Parse("corpus/good-rule.yaml", b)
	require.NoError(t, err, "%s", b)
	require.Equal(t, r, again)
}

func TestParseNamesFileAndLine(t *testing.T) {
	cases := map[string]struct {
		old, new string
		want     string
	}{
		"unknown top-level key": {"severity: medium\n", "severity: medium\nseverty: low\n", ":6: unknown key \"severty\""},
		"unknown check key":     {"      comparator: \"<=\"\n", "      comparator: \"<=\"\n      compare: x\n", ":28: unknown key \"compare\""},
		"unknown method":        {"method: config_value", "method: config_valu", ":23: unknown check method \"config_valu\""},
		"wrong type":            {"max_version: 9", "max_version: [9]", ":12: want a version"},
		"bool for a string":     {"key: PASS_MAX_DAYS", "key: true", ":25: want a string, got a boolean"},
		"unknown capability":    {"when: apt", "when: aptitude", ":21: unknown capability \"aptitude\""},
		"unknown mechanism":     {"remediation: config_set\n", "remediation: config_sett\n", ":29: unknown remediation mechanism \"config_sett\""},
		"undeclared variable":   {"\"{{ max_days }}\"", "\"{{ min_days }}\"", ":21: the check uses {{ min_days }}"},
		"unused variable":       {"  max_days: 60\n", "  max_days: 60\n  other: 1\n", ":18: variable \"other\" is declared but no check uses it"},
		"unknown severity":      {"severity: medium", "severity: severe", ":5: severity \"severe\""},
		"unknown category":      {"category: system", "category: misc", ":6: category \"misc\""},
		"unknown family":        {"family: debian", "family: gentoo", ":7: platform family \"gentoo\""},
		"id differs from file":  {"id: good-rule", "id: other-rule", ":1: id \"other-rule\" differs from the file name"},
		"missing rationale":     {"rationale: Because.\n", "", ":1: rationale is required"},
		"duplicate key":         {"category: system\n", "category: system\ncategory: audit\n", ":7: duplicate key \"category\""},
		"unguarded not last":    {"  - when: apt\n", "  - \n", ":22: the implementation without a guard (when) must be the last one"},
		"bad cis level":         {"level: L1", "level: L3", ":13: cis rhel8: an entry needs"},
		"bad mode":              {"mode: \"0000\"", "mode: rw", ":33: file_permission: mode \"rw\""},
		"bad package state":     {"state: present", "state: installed", ":32: package_state: state \"installed\""},
		"all_of with one":       {"        - {method: file_permission, path: /etc/shadow, mode: \"0000\", owner: root}\n", "", ":32: all_of wants a list of at least two checks"},
		"relative path":         {"path: /etc/login.defs", "path: etc/login.defs", ":23: config_value: path \"etc/login.defs\" is not an absolute path"},
		"two documents":         {"category: system\n", "category: system\n---\nid: x\n", ":7: one rule per file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, good, tc.old)
			src := strings.Replace(good, tc.old, tc.new, 1)
			_, err := rule.Parse("corpus/good-rule.yaml", []byte(src))
			require.Error(t, err)
			require.Contains(t, err.Error(), "corpus/good-rule.yaml"+tc.want)
		})
	}
}

func TestCorpusChecksRelationsAndIDs(t *testing.T) {
	other := strings.ReplaceAll(good, "good-rule", "other-rule")
	fsys := fstest.MapFS{
		"corpus/good-rule.yaml":  {Data: []byte(strings.Replace(good, "category: system\n", "category: system\ndepends_on: [other-rule]\n", 1))},
		"corpus/other-rule.yaml": {Data: []byte(other)},
	}
	c, err := rule.LoadFS(fsys, "corpus")
	require.NoError(t, err)
	require.Equal(t, 2, c.Len())
	r, ok := c.Get("good-rule")
	require.True(t, ok)
	require.Equal(t, []string{"other-rule"}, r.DependsOn)

	delete(fsys, "corpus/other-rule.yaml")
	_, err = rule.LoadFS(fsys, "corpus")
	require.ErrorContains(t, err, "corpus/good-rule.yaml:1: relation to rule \"other-rule\", which does not exist")

	// Every bad file is reported, not only the first.
	fsys["corpus/a-bad.yaml"] = &fstest.MapFile{Data: []byte("id: a-bad\nfoo: 1\n")}
	fsys["corpus/b-bad.yaml"] = &fstest.MapFile{Data: []byte("id: b-bad\nbar: 1\n")}
	_, err = rule.LoadFS(fsys, "corpus")
	require.ErrorContains(t, err, "corpus/a-bad.yaml:2: unknown key \"foo\"")
	require.ErrorContains(t, err, "corpus/b-bad.yaml:2: unknown key \"bar\"")
}

func TestSelectImplementation(t *testing.T) {
	r, err := rule.Parse("corpus/good-rule.yaml", []byte(good))
	require.NoError(t, err)
	require.Equal(t, "config_value", r.Select(map[string]bool{"apt": true}).Check.Method)
	require.NotNil(t, r.Select(nil).Check.AllOf)

	guardedOnly := strings.Replace(good, "  - check:\n      all_of:", "  - when: dnf\n    check:\n      all_of:", 1)
	r, err = rule.Parse("corpus/good-rule.yaml", []byte(guardedOnly))
	require.NoError(t, err)
	require.Nil(t, r.Select(map[string]bool{"sshd_config_d": true}))
	require.NotNil(t, r.Select(map[string]bool{"dnf": true}).Check.AllOf)
}

func TestPlatforms(t *testing.T) {
	r, err := rule.Parse("corpus/good-rule.yaml", []byte(good))
	require.NoError(t, err)
	for _, tc := range []struct {
		family  string
		version rule.Version
		want    bool
	}{
		{"debian", "12", true}, {"debian", "11", false}, {"debian", "13", true},
		{"rhel", "8.10", true}, {"rhel", "9.4", true}, {"rhel", "10.0", false}, {"rhel", "7.9", false},
		{"ubuntu", "22.04", false},
	} {
		require.Equal(t, tc.want, r.AppliesTo(tc.family, tc.version), "%s %s", tc.family, tc.version)
	}
	require.Equal(t, 1, rule.Version("22.04").Compare("22"))
	require.Equal(t, 1, rule.Version("9.10").Compare("9.9"))
	require.Equal(t, 0, rule.Version("12.0").Compare("12"))
}

func TestExpand(t *testing.T) {
	s, ok := rule.Expand("at most {{ max_days }} days, {{max_days}}", map[string]string{"max_days": "60"})
	require.True(t, ok)
	require.Equal(t, "at most 60 days, 60", s)
	_, ok = rule.Expand("{{ unset }}", map[string]string{})
	require.False(t, ok)
}

// TestEmbeddedCorpus loads the rules the binary carries: any bad file fails here with its
// name and line.
func TestEmbeddedCorpus(t *testing.T) {
	c, err := rule.Embedded()
	require.NoError(t, err)
	require.GreaterOrEqual(t, c.Len(), 400)
	families := map[string]int{}
	for _, r := range c.All() {
		for _, p := range r.Platforms {
			families[p.Family]++
		}
		b, err := rule.Marshal(r)
		require.NoError(t, err)
		again, err := rule.Parse(fmt.Sprintf("corpus/%s.yaml", r.ID), b)
		require.NoError(t, err)
		again.Source = r.Source
		require.Equal(t, r, again, r.ID)
	}
	for _, f := range rule.Families {
		require.Positive(t, families[f], "no rule for %s", f)
	}
}
