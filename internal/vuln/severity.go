package vuln

import (
	"encoding/json"
	"math"
	"strings"
)

// The severities, most severe first; unknown when a record rates nothing.
const (
	SeverityCritical   = "critical"
	SeverityHigh       = "high"
	SeverityMedium     = "medium"
	SeverityLow        = "low"
	SeverityNegligible = "negligible"
	SeverityUnknown    = "unknown"
)

var severityRank = map[string]int{SeverityCritical: 5, SeverityHigh: 4, SeverityMedium: 3, SeverityLow: 2,
	SeverityNegligible: 1, SeverityUnknown: 0}

// normalSeverity maps a distribution's rating word (Debian urgency, Ubuntu priority, Red
// Hat and AlmaLinux severity) to ours; "" for a word that rates nothing ("not yet
// assigned", "end-of-life").
func normalSeverity(word string) string {
	switch strings.ToLower(strings.TrimRight(strings.TrimSpace(word), "*")) {
	case "critical":
		return SeverityCritical
	case "high", "important":
		return SeverityHigh
	case "medium", "moderate":
		return SeverityMedium
	case "low":
		return SeverityLow
	case "negligible", "unimportant":
		return SeverityNegligible
	}
	return ""
}

// distroSeverity reads the distribution's own rating from an entry's
// ecosystem_specific/database_specific ("urgency", "severity", "priority") or from
// severity[] entries of a distribution type (e.g. "Ubuntu").
func distroSeverity(ecoSpecific, dbSpecific json.RawMessage, sevs []osvSeverity) string {
	best := ""
	take := func(s string) {
		if s != "" && severityRank[s] > severityRank[best] {
			best = s
		}
	}
	for _, raw := range []json.RawMessage{ecoSpecific, dbSpecific} {
		if len(raw) == 0 {
			continue
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, k := range []string{"urgency", "severity", "priority"} {
			if s, ok := m[k].(string); ok {
				take(normalSeverity(s))
			}
		}
	}
	for _, s := range sevs {
		if !strings.HasPrefix(s.Type, "CVSS_") {
			take(normalSeverity(s.Score))
		}
	}
	return best
}

// severityOf settles a record's severity: the highest distribution rating when there is
// one, otherwise the band of the CVSS v3 base score; with the CVSS vector (v3 preferred,
// then v4, then v2) and the v3 base score when the record has one.
func severityOf(distro []string, sevs []osvSeverity) (string, *float64, *string) {
	sev := ""
	for _, s := range distro {
		if severityRank[s] > severityRank[sev] {
			sev = s
		}
	}
	var vector *string
	var score *float64
	for _, pref := range []string{"CVSS_V3", "CVSS_V4", "CVSS_V2"} {
		for _, s := range sevs {
			if s.Type == pref && s.Score != "" {
				v := truncate(s.Score, 200)
				vector = &v
				if pref == "CVSS_V3" {
					if n, ok := cvss3Score(s.Score); ok {
						score = &n
					}
				}
				break
			}
		}
		if vector != nil {
			break
		}
	}
	if sev == "" && score != nil {
		sev = cvssBand(*score)
	}
	if sev == "" {
		sev = SeverityUnknown
	}
	return sev, score, vector
}

func cvssBand(score float64) string {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityNegligible
}

// cvss3Score computes the CVSS v3.0/v3.1 base score of a vector
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" → 9.8), per the specification's
// formulas; ok is false for a vector missing a base metric.
func cvss3Score(vector string) (float64, bool) {
	parts := strings.Split(vector, "/")
	if len(parts) == 0 || !strings.HasPrefix(parts[0], "CVSS:3.") {
		return 0, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if ok {
			m[k] = v
		}
	}
	pick := func(metric string, values map[string]float64) (float64, bool) {
		v, ok := values[m[metric]]
		return v, ok
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, false
	}
	prValues := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		prValues = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	av, ok1 := pick("AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2})
	ac, ok2 := pick("AC", map[string]float64{"L": 0.77, "H": 0.44})
	pr, ok3 := pick("PR", prValues)
	ui, ok4 := pick("UI", map[string]float64{"N": 0.85, "R": 0.62})
	c, ok5 := pick("C", cia)
	i, ok6 := pick("I", cia)
	a, ok7 := pick("A", cia)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		return 0, false
	}
	iss := 1 - (1-c)*(1-i)*(1-a)
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, true
	}
	expl := 8.22 * av * ac * pr * ui
	if changed {
		return roundUp(math.Min(1.08*(impact+expl), 10)), true
	}
	return roundUp(math.Min(impact+expl, 10)), true
}

// roundUp is CVSS v3.1's Roundup: the smallest number with one decimal not below x.
func roundUp(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}
