package vuln

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func events(t *testing.T, js string) [][]osvEvent {
	t.Helper()
	var out [][]osvEvent
	require.NoError(t, json.Unmarshal([]byte(js), &out))
	return out
}

// TestEvaluate checks the OSV range evaluation on the boundaries: introduced and fixed
// themselves, last_affected, several ranges, unsorted events, explicit versions, epochs,
// tildes and rpm releases.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, rel, ranges string
		versions          []string
		v                 string
		hit               bool
		fixed             string
	}{
		{"below fix", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.2-3"}]]`, nil, "1.2-2", true, "1.2-3"},
		{"at fix", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.2-3"}]]`, nil, "1.2-3", false, ""},
		{"tilde below fix", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.2-3"}]]`, nil, "1.2-3~bpo1", true, "1.2-3"},
		{"security upload above fix", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.2-3"}]]`, nil, "1.2-3+deb12u1", false, ""},
		{"epoch beats everything", "Debian:12", `[[{"introduced":"0"},{"fixed":"1:0.1-1"}]]`, nil, "9.9-9", true, "1:0.1-1"},
		{"before introduced", "Debian:12", `[[{"introduced":"2.0-1"},{"fixed":"2.5-1"}]]`, nil, "1.9-1", false, ""},
		{"at introduced", "Debian:12", `[[{"introduced":"2.0-1"},{"fixed":"2.5-1"}]]`, nil, "2.0-1", true, "2.5-1"},
		{"last_affected itself", "Debian:12", `[[{"introduced":"0"},{"last_affected":"1.0-1"}]]`, nil, "1.0-1", true, ""},
		{"above last_affected", "Debian:12", `[[{"introduced":"0"},{"last_affected":"1.0-1"}]]`, nil, "1.0-1+b1", false, ""},
		{"second range", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.0-1"}],[{"introduced":"2.0-1"},{"fixed":"2.1-1"}]]`, nil, "2.0-5", true, "2.1-1"},
		{"between ranges", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.0-1"}],[{"introduced":"2.0-1"},{"fixed":"2.1-1"}]]`, nil, "1.5-1", false, ""},
		{"unsorted events", "Debian:12", `[[{"fixed":"2.1-1"},{"introduced":"2.0-1"}]]`, nil, "2.0-5", true, "2.1-1"},
		{"one range, reintroduced", "Debian:12", `[[{"introduced":"0"},{"fixed":"1.0-1"},{"introduced":"2.0-1"},{"fixed":"2.1-1"}]]`, nil, "2.0-1", true, "2.1-1"},
		{"explicit version", "Debian:12", `[]`, []string{"1.0-1", "1.1-1"}, "1.1-1", true, ""},
		{"not an explicit version", "Debian:12", `[]`, []string{"1.0-1"}, "1.0-2", false, ""},
		{"rpm release", "AlmaLinux:9", `[[{"introduced":"0"},{"fixed":"3.0.7-27.el9"}]]`, nil, "1:3.0.7-24.el9", false, ""},
		{"rpm release below", "AlmaLinux:9", `[[{"introduced":"0"},{"fixed":"1:3.0.7-27.el9"}]]`, nil, "1:3.0.7-24.el9", true, "1:3.0.7-27.el9"},
		{"rpm minor release", "Rocky Linux:9", `[[{"introduced":"0"},{"fixed":"2.34-60.el9_2.7"}]]`, nil, "2.34-60.el9", true, "2.34-60.el9_2.7"},
		{"no ordering", "PyPI", `[[{"introduced":"0"},{"fixed":"1.0"}]]`, nil, "0.5", false, ""},
	}
	for _, c := range cases {
		hit, fixed := evaluate(c.rel, rangeSet{ranges: events(t, c.ranges), versions: c.versions}, c.v)
		require.Equal(t, c.hit, hit, c.name)
		require.Equal(t, c.fixed, fixed, c.name)
	}
}

func TestReleases(t *testing.T) {
	t.Parallel()
	for eco, want := range map[string]string{
		"Debian:12": "Debian:12", "Debian:11": "Debian:11", "Ubuntu:22.04:LTS": "Ubuntu:22.04", "Ubuntu:24.10": "Ubuntu:24.10",
		"Ubuntu:Pro:20.04:LTS": "Ubuntu:20.04", "Red Hat:enterprise_linux:9::appstream": "Red Hat:9", "AlmaLinux:9": "AlmaLinux:9",
		"Rocky Linux:8": "Rocky Linux:8", "PyPI": "", "Debian": "", "npm": "",
	} {
		require.Equal(t, want, Release(eco), eco)
	}
	for _, c := range [][3]string{{"debian", "12", "Debian:12"}, {"ubuntu", "22.04", "Ubuntu:22.04"}, {"rhel", "9.4", "Red Hat:9"},
		{"almalinux", "9.3", "AlmaLinux:9"}, {"rocky", "8.10", "Rocky Linux:8"}, {"sles", "15.5", ""}, {"debian", "", ""}} {
		require.Equal(t, c[2], HostRelease(c[0], c[1]), c[0]+" "+c[1])
	}
}

// TestSeverity reads distribution ratings and CVSS v3 scores (the specification's
// examples).
func TestSeverity(t *testing.T) {
	t.Parallel()
	for vector, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H": 7.8,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N": 5.9,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
	} {
		got, ok := cvss3Score(vector)
		require.True(t, ok, vector)
		require.InDelta(t, want, got, 0.0001, vector)
	}
	_, ok := cvss3Score("CVSS:3.1/AV:N/AC:L")
	require.False(t, ok)
	sev, score, vec := severityOf(nil, []osvSeverity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}})
	require.Equal(t, SeverityCritical, sev)
	require.InDelta(t, 9.8, *score, 0.0001)
	require.NotNil(t, vec)
	sev, _, _ = severityOf([]string{SeverityLow}, []osvSeverity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}})
	require.Equal(t, SeverityLow, sev, "the distribution's rating wins")
	sev, score, _ = severityOf(nil, nil)
	require.Equal(t, SeverityUnknown, sev)
	require.Nil(t, score)
	require.Equal(t, SeverityHigh, distroSeverity(json.RawMessage(`{"urgency":"high**"}`), nil, nil))
	require.Equal(t, SeverityHigh, distroSeverity(nil, json.RawMessage(`{"severity":"Important"}`), nil))
	require.Equal(t, SeverityMedium, distroSeverity(nil, nil, []osvSeverity{{Type: "Ubuntu", Score: "medium"}}))
	require.Empty(t, distroSeverity(json.RawMessage(`{"urgency":"not yet assigned"}`), nil, nil))
}

// TestParseRecordRejects names the reason of each rejection.
func TestParseRecordRejects(t *testing.T) {
	t.Parallel()
	for rec, reason := range map[string]string{
		`not json`:                            "Not a JSON OSV record",
		`{"modified":"2026-01-01T00:00:00Z"}`: "id",
		`{"id":"X-1"}`:                        "modified",
		`{"id":"X-1","modified":"yesterday"}`: "RFC 3339",
		`{"id":"X-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12"}}]}`:                                                                                          "ecosystem and a name",
		`{"id":"X-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[]}]}]}`:                                   "needs events",
		`{"id":"X-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1.0"}]}]}]}`:                    "introduced",
		`{"id":"X-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}`:     "exactly one",
		`{"id":"X-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"v1!"}]}]}]}`: "not a valid",
	} {
		_, err := parseRecord([]byte(rec))
		require.Error(t, err, rec)
		require.Contains(t, err.Error(), reason, rec)
	}
	a, err := parseRecord([]byte(`{"id":"X-1","modified":"2026-01-01T00:00:00Z","aliases":["CVE-1","CVE-1","X-1"],
		"affected":[{"package":{"ecosystem":"PyPI","name":"a"}},{"package":{"ecosystem":"Debian:12","name":"a"},"versions":["1.0-1"]},
		{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"GIT","events":[{"introduced":"abc"}]},{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"CVE-1"}, a.Aliases)
	require.Len(t, a.Affected, 1, "other ecosystems are left out and one package's entries merge")
	require.Equal(t, []string{"1.0-1"}, a.Affected[0].Versions)
	require.Len(t, a.Affected[0].Ranges, 1, "only ECOSYSTEM ranges are kept")
}

// TestHostPackages maps inventories: dpkg by source package and version, rpm by binary
// and source name, old inventories without source fields by binary name.
func TestHostPackages(t *testing.T) {
	t.Parallel()
	pkgs, err := hostPackages("Debian:12", []byte(`{"libssl3":{"version":"3.0.11-1~deb12u2+b1","arch":"amd64","source":"openssl","source_version":"3.0.11-1~deb12u2"},
		"openssl":{"version":"3.0.11-1~deb12u2","arch":"amd64"},"libc6:amd64":{"version":"2.36-9","arch":"amd64","source":"glibc"},
		"libc6:i386":{"version":"2.36-9","arch":"i386","source":"glibc"}}`))
	require.NoError(t, err)
	require.Equal(t, []hostPackage{{"glibc", "2.36-9", []string{"libc6", "libc6"}}, {"openssl", "3.0.11-1~deb12u2", []string{"libssl3", "openssl"}}}, pkgs)
	pkgs, err = hostPackages("AlmaLinux:9", []byte(`{"openssl-libs":{"version":"1:3.0.7-24.el9","arch":"x86_64","source":"openssl"}}`))
	require.NoError(t, err)
	require.Equal(t, []hostPackage{{"openssl", "1:3.0.7-24.el9", []string{"openssl-libs"}}, {"openssl-libs", "1:3.0.7-24.el9", []string{"openssl-libs"}}}, pkgs)
	_, err = hostPackages("Debian:12", []byte(`[]`))
	require.Error(t, err)
}
