package report_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/report"
)

var pdfAt = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// pdfDocuments are one report of each kind, filled the way the service fills them, with
// long names, many rows and a 30-day trend, so the PDF layout is tried on real shapes.
func pdfDocuments() map[string]report.Document {
	base := func(kind, title string) report.Document {
		return report.Document{Format: report.FormatVersion, ID: "01900000-0000-7000-8000-0000000000" + strconv.Itoa(10+len(kind)),
			Kind: kind, Title: title, GeneratedAt: pdfAt.Format(time.RFC3339Nano),
			GeneratedBy: report.Actor{ID: "user:1", Name: "alice"}, OpenWatchVersion: "1.4.0", Scope: report.ScopeDoc{Type: "fleet"},
			AuditChainHead: report.ChainHead{Seq: 4242, Hash: strings.Repeat("9f8e7d6c", 8)}}
	}
	out := map[string]report.Document{}

	comp := base(report.KindCompliance, "Compliance report")
	comp.Scope = report.ScopeDoc{Type: "group", ID: "01900000-0000-7000-8000-00000000aaaa", Name: "production web servers (eu-west)"}
	comp.Parameters = report.Parameters{Framework: "cis-debian12"}
	c := &report.Compliance{Framework: "cis-debian12", Exceptions: []report.ExceptionDoc{}}
	rules := []struct{ id, title, severity string }{
		{"sshd-permit-root-login", "SSH root login is disabled", "high"},
		{"accounts-no-empty-passwords", "No account has an empty password", "critical"},
		{"login-defs-pass-max-days", "Passwords expire within 365 days (PASS_MAX_DAYS in /etc/login.defs)", "medium"},
		{"auditd-enabled", "The audit daemon is enabled and running at boot", "medium"},
		{"kernel-module-cramfs-disabled-with-a-very-long-rule-identifier", "Mounting of cramfs filesystems is disabled", "low"},
	}
	var counts report.Counts
	failing := map[string]int64{}
	for h := range 12 {
		hs := report.HostSection{HostID: fmt.Sprintf("01900000-0000-7000-8000-%012d", h),
			Hostname: fmt.Sprintf("web-%02d.eu-west.production.example.org", h), Environment: "production"}
		for i, ru := range rules {
			st := "pass"
			if (h+i)%3 == 0 {
				st = "fail"
			}
			if h == 0 && i == 3 {
				st = "excepted"
			}
			hs.Counts.Pass += map[bool]int64{true: 1}[st == "pass"]
			hs.Counts.Fail += map[bool]int64{true: 1}[st == "fail"]
			hs.Counts.Excepted += map[bool]int64{true: 1}[st == "excepted"]
			switch st {
			case "pass":
				counts.Pass++
			case "fail":
				counts.Fail++
				failing[ru.severity]++
			case "excepted":
				counts.Excepted++
			}
			hs.Results = append(hs.Results, report.ResultDoc{RuleID: ru.id, Title: ru.title, Severity: ru.severity, Status: st,
				ScanID: "s", Evidence: "/api/v1/scans/s/rules/" + ru.id + "/evidence", ChangedAt: pdfAt.Add(-time.Hour).Format(time.RFC3339Nano)})
		}
		hs.ScorePercent = ptr(float64(hs.Counts.Pass) * 100 / float64(hs.Counts.Pass+hs.Counts.Fail))
		c.Hosts = append(c.Hosts, hs)
	}
	c.Exceptions = append(c.Exceptions, report.ExceptionDoc{ID: "e1", RuleID: "auditd-enabled", Scope: "host", HostID: c.Hosts[0].HostID,
		Reason:      "The legacy host ships its logs to the central collector; auditd is replaced by the collector's agent until the migration in Q3.",
		RequestedBy: "carol", ApprovedBy: "bob", ApprovedAt: pdfAt.Add(-72 * time.Hour).Format(time.RFC3339Nano),
		ExpiresAt: pdfAt.Add(90 * 24 * time.Hour).Format(time.RFC3339Nano)})
	for d := 29; d >= 0; d-- {
		p := report.TrendPoint{At: pdfAt.Add(-time.Duration(d) * 24 * time.Hour).Format(time.RFC3339Nano), Pass: int64(30 + d%7), Fail: int64(30 - d%5)}
		if d < 27 {
			p.ScorePercent = ptr(float64(p.Pass) * 100 / float64(p.Pass+p.Fail))
		}
		c.Trend = append(c.Trend, p)
	}
	comp.Compliance = c
	comp.Summary = report.Summary{Hosts: ptr(int64(len(c.Hosts))), Results: &counts, ScorePercent: ptr(float64(counts.Pass) * 100 / float64(counts.Pass+counts.Fail)),
		FailingBySeverity: failing, ExceptionsInForce: ptr(int64(1))}
	out[report.KindCompliance] = comp

	post := comp
	post.Kind, post.Title = report.KindPosture, "Posture as of report"
	post.Scope = report.ScopeDoc{Type: "fleet"}
	post.Parameters = report.Parameters{AsOf: ptr(pdfAt.Add(-48 * time.Hour))}
	pc := *c
	pc.Framework, pc.AsOf = "", ptr(pdfAt.Add(-48*time.Hour).Format(time.RFC3339Nano))
	post.Compliance = &pc
	out[report.KindPosture] = post

	aud := base(report.KindAudit, "Audit trail report")
	since, until := pdfAt.Add(-7*24*time.Hour), pdfAt
	aud.Parameters = report.Parameters{Since: &since, Until: &until}
	at := &report.AuditTrail{Since: since.Format(time.RFC3339Nano), Until: until.Format(time.RFC3339Nano),
		Verification: report.Verification{OK: true, Checked: 4242}}
	actions := []string{"host.created", "credential.created", "scan.requested", "exception.approved", "report.generated", "notification_channel.updated"}
	for i := range 150 {
		at.Events = append(at.Events, report.AuditEventDoc{Seq: int64(4000 + i), ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", i),
			OccurredAt: since.Add(time.Duration(i) * time.Hour).Format(time.RFC3339Nano), Action: actions[i%len(actions)], Severity: "info",
			ActorType: "user", ActorID: "01900000-0000-7000-8000-0000000000aa", ResourceType: "host",
			ResourceID: fmt.Sprintf("01900000-0000-7000-8000-%012d", i%9), Detail: json.RawMessage(`{}`),
			PrevHash: strings.Repeat("ab", 32), Hash: fmt.Sprintf("%064x", i*7919)})
	}
	aud.Audit = at
	aud.Summary = report.Summary{Events: ptr(int64(len(at.Events))), ChainVerified: ptr(true)}
	out[report.KindAudit] = aud

	ph := base(report.KindPatchHistory, "Patch history report")
	ph.Parameters = report.Parameters{Since: &since, Until: &until}
	p := &report.PatchHistory{Since: since.Format(time.RFC3339Nano), Until: until.Format(time.RFC3339Nano)}
	outcomes := map[string]int64{}
	for j := range 8 {
		job := report.JobDoc{ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", 100+j), Kind: "patch",
			Name: fmt.Sprintf("Security updates for the production web tier, wave %d", j+1), Status: "completed",
			RequestedBy: "alice", DecidedBy: "bob", CreatedAt: since.Add(time.Duration(j) * 12 * time.Hour).Format(time.RFC3339Nano)}
		for h := range 5 {
			st := []string{"succeeded", "succeeded", "failed", "succeeded", "skipped"}[(h+j)%5]
			outcomes[st]++
			hd := report.JobHostDoc{HostID: "h", HostName: fmt.Sprintf("web-%02d.eu-west.production.example.org", h), Status: st,
				FinishedAt: since.Add(time.Duration(j)*12*time.Hour + time.Hour).Format(time.RFC3339Nano), Rebooted: h%2 == 0}
			if st == "failed" {
				hd.Error = "apt-get exited with status 100: E: Unable to fetch some archives"
			}
			job.Hosts = append(job.Hosts, hd)
		}
		p.Jobs = append(p.Jobs, job)
	}
	ph.PatchHistory = p
	ph.Summary = report.Summary{Jobs: ptr(int64(len(p.Jobs))), HostOutcomes: outcomes}
	out[report.KindPatchHistory] = ph

	vr := base(report.KindVulnerability, "Vulnerability exposure report")
	vr.Parameters = report.Parameters{MinSeverity: "medium"}
	v := &report.Vulnerability{Feeds: []report.FeedDoc{{Source: "debian-security-offline", Imports: 3,
		LastImportAt: pdfAt.Add(-5 * time.Hour).Format(time.RFC3339Nano), LastStatus: "succeeded",
		LastSuccessAt: pdfAt.Add(-5 * time.Hour).Format(time.RFC3339Nano), Advisories: 51234}}}
	bySev, hostsBySev := map[string]int64{}, map[string]int64{}
	for i, sev := range []string{"critical", "high", "high", "medium", "medium", "medium"} {
		a := report.AdvisoryDoc{ID: fmt.Sprintf("DSA-%d-1", 5600+i), Aliases: []string{fmt.Sprintf("CVE-2026-%d", 41000+i)}, Severity: sev,
			CVSSScore: ptr(9.8 - float64(i)), Summary: "openssl security update"}
		bySev[sev]++
		for h := range 4 {
			fixed := "3.0.15-1~deb12u1"
			eh := report.ExposedHostDoc{HostID: fmt.Sprintf("01900000-0000-7000-8000-%012d", h),
				Hostname: fmt.Sprintf("web-%02d.eu-west.production.example.org", h), Release: "Debian:12", Package: "openssl",
				Binaries: []string{"libssl3", "openssl"}, InstalledVersion: "3.0.11-1~deb12u2", FixedVersion: fixed,
				FixInstallable: h != 3, FirstSeen: pdfAt.Add(-time.Duration(i+h) * 24 * time.Hour).Format(time.RFC3339Nano)}
			if h == 3 {
				eh.FixedVersion = ""
			}
			a.Hosts = append(a.Hosts, eh)
		}
		v.Advisories = append(v.Advisories, a)
	}
	hostsBySev["critical"] = 4
	for d := 29; d >= 0; d-- {
		v.Trend = append(v.Trend, report.ExposurePoint{At: pdfAt.Add(-time.Duration(d) * 24 * time.Hour).Format(time.RFC3339Nano),
			Hosts: int64(4 - min(d, 4)), Exposures: int64(24 - min(d, 24))})
	}
	vr.Vulnerability = v
	vr.Summary = report.Summary{Advisories: ptr(int64(len(v.Advisories))), ExposedHosts: ptr(int64(4)), AdvisoriesBySeverity: bySev,
		ExposedHostsBySeverity: hostsBySev}
	out[report.KindVulnerability] = vr
	return out
}

// poppler runs a poppler-utils command and returns its standard output.
func poppler(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	require.NoError(t, err, "%s is needed to read the PDF exports back: install the Debian package poppler-utils "+
		"(scripts/install-deps.sh does)", name)
	out, err := exec.Command(path, args...).Output()
	require.NoError(t, err, "%s %v", name, args)
	return string(out)
}

// TestPDFText reads each kind's PDF export back with poppler (pdftotext, pdfinfo): the key
// text is there (title, scope, report id, key id, chain head, a rule title or an audit
// action, the chart labels, the page numbers) and the page count is in the expected range,
// so a PDF that does not render, or renders without its content, fails.
func TestPDFText(t *testing.T) {
	t.Parallel()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sg := report.NewSigner(priv)
	want := map[string]struct {
		text       []string
		minP, maxP int
	}{
		report.KindCompliance: {[]string{"Compliance report", "group: production web servers (eu-west)", "cis-debian12",
			"SSH root login is disabled", "Score trend", "Failing results by severity", "critical", "Score (%)",
			"Exceptions in force", "The legacy host ships its logs"}, 3, 8},
		report.KindPosture: {[]string{"Posture as of report", "As of", "2026-11-29", "No account has an empty password", "Score (%)"}, 3, 8},
		report.KindAudit: {[]string{"Audit trail report", "Chain verification", "verified", "exception.approved",
			"notification_channel.updated", "4149"}, 3, 10},
		report.KindPatchHistory: {[]string{"Patch history report", "Host outcomes", "succeeded", "failed",
			"production web tier, wave 8", "Unable to fetch some archives", "Error"}, 2, 8},
		report.KindVulnerability: {[]string{"Vulnerability exposure report", "Minimum severity", "Exposed hosts by severity",
			"Exposure over time", "Exposed hosts", "Advisory feeds", "debian-security-offline", "51234", "DSA-5605-1",
			"CVE-2026-41000", "CVSS 9.8", "3.0.11-1~deb12u2", "no fix", "Date (UTC)"}, 2, 8},
	}
	docs := pdfDocuments()
	require.Len(t, docs, len(want))
	dir := t.TempDir()
	for kind, doc := range docs {
		content, err := report.Canonical(doc)
		require.NoError(t, err)
		file, err := report.Export(content, report.FormatPDF, sg)
		require.NoError(t, err)
		path := filepath.Join(dir, kind+".pdf")
		require.NoError(t, os.WriteFile(path, file, 0o600))

		info := poppler(t, "pdfinfo", path)
		m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(info)
		require.NotNil(t, m, "pdfinfo: %s", info)
		pages, _ := strconv.Atoi(m[1])
		w := want[kind]
		require.GreaterOrEqual(t, pages, w.minP, "%s: pages", kind)
		require.LessOrEqual(t, pages, w.maxP, "%s: pages", kind)
		require.Regexp(t, `(?m)^Title:\s+`+regexp.QuoteMeta(doc.Title)+`$`, info)

		text := poppler(t, "pdftotext", "-layout", path, "-")
		// Lines a table or chart clipped or wrapped do not count: each key text is on one line.
		for _, s := range append([]string{doc.ID, sg.KeyID, "seq 4242", doc.AuditChainHead.Hash, doc.GeneratedBy.Name}, w.text...) {
			require.Contains(t, text, s, "%s: %q", kind, s)
		}
		for p := 1; p <= pages; p++ {
			require.Contains(t, text, fmt.Sprintf("page %d of %d", p, pages), "%s: every page is numbered", kind)
		}
		// No page is empty: each has more than its header and footer.
		for i, page := range strings.Split(strings.TrimRight(text, "\f\n"), "\f") {
			require.Greater(t, len(strings.Fields(page)), 25, "%s: page %d has content", kind, i+1)
		}
	}
}
