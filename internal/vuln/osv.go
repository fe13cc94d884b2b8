package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openwatch/openwatch/internal/vuln/version"
)

// maxDetails bounds the stored details of a record; the feed stays the reference.
const maxDetails = 8 << 10

// osvRecord is the part of an OSV record (https://ossf.github.io/osv-schema/) matching
// and the API read.
type osvRecord struct {
	SchemaVersion    string          `json:"schema_version"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn"`
	Aliases          []string        `json:"aliases"`
	Upstream         []string        `json:"upstream"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Severity          []osvSeverity   `json:"severity"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
}

type osvRange struct {
	Type   string     `json:"type"`
	Events []osvEvent `json:"events"`
}

// osvEvent is one event of a range; exactly one field is set.
type osvEvent struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Advisory is a validated record reduced to what is stored.
type Advisory struct {
	ID         string
	Aliases    []string
	Summary    string
	Details    string
	Severity   string
	CVSSScore  *float64
	CVSSVector *string
	Published  *time.Time
	Modified   time.Time
	Withdrawn  *time.Time
	Affected   []Affected
}

// Affected is one package of one release an advisory covers.
type Affected struct {
	Release   string
	Ecosystem string
	Package   string
	Ranges    [][]osvEvent
	Versions  []string
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// parseRecord decodes and checks one OSV record. The error, a full sentence, is the
// rejection reason shown in the import history.
func parseRecord(b []byte) (Advisory, error) {
	var r osvRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Advisory{}, fmt.Errorf("Not a JSON OSV record: %v.", err)
	}
	if !idPattern.MatchString(r.ID) {
		return Advisory{}, fmt.Errorf("The id %q is missing or malformed.", truncate(r.ID, 80))
	}
	mod, err := parseTime(r.Modified)
	if err != nil {
		return Advisory{}, fmt.Errorf("modified: %v", err)
	}
	a := Advisory{ID: r.ID, Modified: mod, Summary: truncate(r.Summary, 1024), Details: truncate(r.Details, maxDetails)}
	if r.Published != "" {
		t, err := parseTime(r.Published)
		if err != nil {
			return Advisory{}, fmt.Errorf("published: %v", err)
		}
		a.Published = &t
	}
	if r.Withdrawn != "" {
		t, err := parseTime(r.Withdrawn)
		if err != nil {
			return Advisory{}, fmt.Errorf("withdrawn: %v", err)
		}
		a.Withdrawn = &t
	}
	seen := map[string]bool{r.ID: true}
	for _, al := range r.Aliases {
		if al != "" && !seen[al] && len(a.Aliases) < 64 {
			seen[al] = true
			a.Aliases = append(a.Aliases, truncate(al, 128))
		}
	}
	if a.Aliases == nil {
		a.Aliases = []string{}
	}
	byKey := map[[2]string]int{}
	var distro []string
	for i, af := range r.Affected {
		eco, name := af.Package.Ecosystem, af.Package.Name
		if name == "" && eco == "" {
			continue // an affected entry by purl or git ranges only: nothing to match here
		}
		if name == "" || eco == "" {
			return Advisory{}, fmt.Errorf("affected[%d]: the package needs both an ecosystem and a name.", i)
		}
		rel := Release(eco)
		if rel == "" {
			continue // an ecosystem hosts never run (PyPI, npm, ...): kept out of matching
		}
		var ranges [][]osvEvent
		for j, rg := range af.Ranges {
			if rg.Type != "ECOSYSTEM" {
				continue
			}
			if len(rg.Events) == 0 {
				return Advisory{}, fmt.Errorf("affected[%d].ranges[%d]: a range needs events.", i, j)
			}
			hasIntro := false
			for k, ev := range rg.Events {
				n, v := 0, ""
				for _, s := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
					if s != "" {
						n++
						v = s
					}
				}
				if n != 1 {
					return Advisory{}, fmt.Errorf("affected[%d].ranges[%d].events[%d]: an event has exactly one of introduced, fixed, last_affected, limit.", i, j, k)
				}
				if ev.Introduced != "" {
					hasIntro = true
				}
				if v != "0" && !version.Valid(eco, v) {
					return Advisory{}, fmt.Errorf("affected[%d].ranges[%d].events[%d]: %q is not a valid %s version.", i, j, k, truncate(v, 80), eco)
				}
			}
			if !hasIntro {
				return Advisory{}, fmt.Errorf("affected[%d].ranges[%d]: a range needs an introduced event.", i, j)
			}
			ranges = append(ranges, rg.Events)
		}
		var versions []string
		for _, v := range af.Versions {
			if version.Valid(eco, v) {
				versions = append(versions, v)
			}
		}
		if s := distroSeverity(af.EcosystemSpecific, af.DatabaseSpecific, af.Severity); s != "" {
			distro = append(distro, s)
		}
		key := [2]string{rel, name}
		if k, ok := byKey[key]; ok {
			a.Affected[k].Ranges = append(a.Affected[k].Ranges, ranges...)
			a.Affected[k].Versions = append(a.Affected[k].Versions, versions...)
			continue
		}
		byKey[key] = len(a.Affected)
		a.Affected = append(a.Affected, Affected{Release: rel, Ecosystem: eco, Package: name, Ranges: ranges, Versions: versions})
	}
	if s := distroSeverity(nil, r.DatabaseSpecific, r.Severity); s != "" {
		distro = append(distro, s)
	}
	a.Severity, a.CVSSScore, a.CVSSVector = severityOf(distro, append(r.Severity, affectedSeverities(r.Affected)...))
	return a, nil
}

func affectedSeverities(afs []osvAffected) []osvSeverity {
	var out []osvSeverity
	for _, af := range afs {
		out = append(out, af.Severity...)
	}
	return out
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("the time is missing.")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time.", truncate(s, 64))
	}
	return t.UTC(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// Release reduces an OSV ecosystem to the distribution release hosts are mapped to
// ("Ubuntu:22.04:LTS" → "Ubuntu:22.04", "Red Hat:enterprise_linux:9::appstream" →
// "Red Hat:9", "AlmaLinux:9" → "AlmaLinux:9"), or "" for an ecosystem no host runs.
func Release(ecosystem string) string {
	parts := strings.Split(ecosystem, ":")
	switch parts[0] {
	case "Debian":
		if len(parts) >= 2 && parts[1] != "" {
			return "Debian:" + major(parts[1])
		}
	case "Ubuntu":
		// Ubuntu:22.04:LTS, Ubuntu:24.10, Ubuntu:Pro:22.04:LTS (Pro records also cover the release).
		for _, p := range parts[1:] {
			if len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
				return "Ubuntu:" + p
			}
		}
	case "Red Hat":
		// Red Hat:enterprise_linux:9::appstream, Red Hat:rhel_aus:8.4::baseos
		if len(parts) >= 3 && parts[1] == "enterprise_linux" {
			return "Red Hat:" + major(parts[2])
		}
	case "AlmaLinux", "Rocky Linux":
		if len(parts) >= 2 && parts[1] != "" {
			return parts[0] + ":" + major(parts[1])
		}
	}
	return ""
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// HostRelease maps a host's os-release facts (ID and VERSION_ID) to its release, or ""
// when OSV feeds have no ecosystem for it.
func HostRelease(osID, osVersion string) string {
	if osVersion == "" {
		return ""
	}
	switch strings.ToLower(osID) {
	case "debian":
		return "Debian:" + major(osVersion)
	case "ubuntu":
		return "Ubuntu:" + osVersion
	case "rhel":
		return "Red Hat:" + major(osVersion)
	case "almalinux":
		return "AlmaLinux:" + major(osVersion)
	case "rocky":
		return "Rocky Linux:" + major(osVersion)
	}
	return ""
}
