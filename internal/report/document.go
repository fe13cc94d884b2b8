package report

import (
	"encoding/json"
	"time"
)

// FormatVersion names the layout of a report document.
const FormatVersion = "openwatch-report/1"

// The kinds of report.
const (
	KindCompliance   = "compliance"
	KindPosture      = "posture"
	KindAudit        = "audit"
	KindPatchHistory = "patch_history"
	// KindVulnerability is the vulnerability exposure report.
	KindVulnerability = "vulnerability"
)

// The scopes of a compliance or posture report.
const (
	ScopeFleet = "fleet"
	ScopeGroup = "group"
	ScopeHost  = "host"
)

// The statuses of a report.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// Document is a report as signed: the canonical JSON of this value is what the signature
// covers. Times are RFC 3339 in UTC.
type Document struct {
	Format           string         `json:"format"`
	ID               string         `json:"id"`
	Kind             string         `json:"kind"`
	Title            string         `json:"title"`
	GeneratedAt      string         `json:"generated_at"`
	GeneratedBy      Actor          `json:"generated_by"`
	OpenWatchVersion string         `json:"openwatch_version"`
	Scope            ScopeDoc       `json:"scope"`
	Parameters       Parameters     `json:"parameters"`
	AuditChainHead   ChainHead      `json:"audit_chain_head"`
	Summary          Summary        `json:"summary"`
	Compliance       *Compliance    `json:"compliance,omitempty"`
	Audit            *AuditTrail    `json:"audit,omitempty"`
	PatchHistory     *PatchHistory  `json:"patch_history,omitempty"`
	Vulnerability    *Vulnerability `json:"vulnerability,omitempty"`
}

// Actor is who generated a report: a user, a service account or a schedule.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ScopeDoc is what a report covers, with the group's or host's name.
type ScopeDoc struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Parameters narrow a report.
type Parameters struct {
	Framework string     `json:"framework,omitempty"`
	AsOf      *time.Time `json:"as_of,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	Until     *time.Time `json:"until,omitempty"`
	// MinSeverity is the least advisory severity a vulnerability report holds.
	MinSeverity string `json:"min_severity,omitempty"`
}

// ChainHead is the audit chain head: the last event's sequence number and MAC (hex).
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Summary is a report's headline figures; which are set depends on the kind.
type Summary struct {
	Hosts             *int64           `json:"hosts,omitempty"`
	Results           *Counts          `json:"results,omitempty"`
	ScorePercent      *float64         `json:"score_percent,omitempty"`
	FailingBySeverity map[string]int64 `json:"failing_by_severity,omitempty"`
	ExceptionsInForce *int64           `json:"exceptions_in_force,omitempty"`
	Events            *int64           `json:"events,omitempty"`
	ChainVerified     *bool            `json:"chain_verified,omitempty"`
	Jobs              *int64           `json:"jobs,omitempty"`
	HostOutcomes      map[string]int64 `json:"host_outcomes,omitempty"`
	// Advisories and ExposedHosts count a vulnerability report's advisories and the hosts
	// exposed to any; the maps count them per advisory severity (a host counts once under
	// the most severe advisory it is exposed to).
	Advisories             *int64           `json:"advisories,omitempty"`
	ExposedHosts           *int64           `json:"exposed_hosts,omitempty"`
	AdvisoriesBySeverity   map[string]int64 `json:"advisories_by_severity,omitempty"`
	ExposedHostsBySeverity map[string]int64 `json:"exposed_hosts_by_severity,omitempty"`
}

// Counts are results counted by status.
type Counts struct {
	Pass     int64 `json:"pass"`
	Fail     int64 `json:"fail"`
	Skipped  int64 `json:"skipped"`
	Error    int64 `json:"error"`
	Excepted int64 `json:"excepted"`
}

func (c *Counts) add(status string) {
	switch status {
	case "pass":
		c.Pass++
	case "fail":
		c.Fail++
	case "skipped":
		c.Skipped++
	case "error":
		c.Error++
	case "excepted":
		c.Excepted++
	}
}

// score is pass / (pass + fail) in percent with two decimals, nil without either.
func (c Counts) score() *float64 {
	if c.Pass+c.Fail == 0 {
		return nil
	}
	v := float64(int64(float64(c.Pass)*10000/float64(c.Pass+c.Fail)+0.5)) / 100
	return &v
}

// Compliance is the body of a compliance or posture report.
type Compliance struct {
	Framework  string         `json:"framework"`
	AsOf       *string        `json:"as_of,omitempty"`
	Hosts      []HostSection  `json:"hosts"`
	Exceptions []ExceptionDoc `json:"exceptions"`
	Trend      []TrendPoint   `json:"trend"`
}

// HostSection is one host's results.
type HostSection struct {
	HostID       string      `json:"host_id"`
	Hostname     string      `json:"hostname"`
	Environment  string      `json:"environment"`
	Counts       Counts      `json:"counts"`
	ScorePercent *float64    `json:"score_percent,omitempty"`
	Results      []ResultDoc `json:"results"`
}

// ResultDoc is one rule's latest result on a host, with where its evidence is.
type ResultDoc struct {
	RuleID      string `json:"rule_id"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	ScanID      string `json:"scan_id"`
	Evidence    string `json:"evidence"`
	ChangedAt   string `json:"changed_at"`
	ExceptionID string `json:"exception_id,omitempty"`
}

// ExceptionDoc is an exception in force: who requested and approved it, and its expiry.
type ExceptionDoc struct {
	ID          string `json:"id"`
	RuleID      string `json:"rule_id"`
	Scope       string `json:"scope"`
	HostID      string `json:"host_id,omitempty"`
	GroupID     string `json:"group_id,omitempty"`
	Reason      string `json:"reason"`
	RequestedBy string `json:"requested_by"`
	ApprovedBy  string `json:"approved_by"`
	ApprovedAt  string `json:"approved_at"`
	ExpiresAt   string `json:"expires_at"`
}

// TrendPoint is the counts at one instant of the score trend.
type TrendPoint struct {
	At           string   `json:"at"`
	Pass         int64    `json:"pass"`
	Fail         int64    `json:"fail"`
	ScorePercent *float64 `json:"score_percent,omitempty"`
}

// AuditTrail is the body of an audit report.
type AuditTrail struct {
	Since        string          `json:"since"`
	Until        string          `json:"until"`
	Verification Verification    `json:"verification"`
	Events       []AuditEventDoc `json:"events"`
}

// Verification is the audit chain's verification when the report was generated.
type Verification struct {
	OK             bool   `json:"ok"`
	Checked        int64  `json:"checked"`
	FirstBrokenSeq *int64 `json:"first_broken_seq,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// AuditEventDoc is one audit event with its place in the chain.
type AuditEventDoc struct {
	Seq           int64           `json:"seq"`
	ID            string          `json:"id"`
	OccurredAt    string          `json:"occurred_at"`
	Action        string          `json:"action"`
	Severity      string          `json:"severity"`
	ActorType     string          `json:"actor_type"`
	ActorID       string          `json:"actor_id,omitempty"`
	ResourceType  string          `json:"resource_type,omitempty"`
	ResourceID    string          `json:"resource_id,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Detail        json.RawMessage `json:"detail"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// PatchHistory is the body of a patch history report.
type PatchHistory struct {
	Since string   `json:"since"`
	Until string   `json:"until"`
	Jobs  []JobDoc `json:"jobs"`
}

// JobDoc is one change job and the outcome on each of its hosts.
type JobDoc struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Status      string       `json:"status"`
	RequestedBy string       `json:"requested_by"`
	DecidedBy   string       `json:"decided_by,omitempty"`
	CreatedAt   string       `json:"created_at"`
	StartedAt   string       `json:"started_at,omitempty"`
	FinishedAt  string       `json:"finished_at,omitempty"`
	Hosts       []JobHostDoc `json:"hosts"`
}

// JobHostDoc is a change job's outcome on one host.
type JobHostDoc struct {
	HostID     string `json:"host_id"`
	HostName   string `json:"host_name"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	StartedAt  string `json:"started_at,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	Rebooted   bool   `json:"rebooted"`
}

// Vulnerability is the body of a vulnerability exposure report: the open exposures per
// advisory, the exposure over time and the state of the advisory feeds they come from.
type Vulnerability struct {
	Feeds      []FeedDoc       `json:"feeds"`
	Advisories []AdvisoryDoc   `json:"advisories"`
	Trend      []ExposurePoint `json:"trend"`
}

// FeedDoc is one advisory feed (an import source): its last import and how it ended, its
// last successful import and the advisories it last wrote.
type FeedDoc struct {
	Source        string `json:"source"`
	Imports       int64  `json:"imports"`
	LastImportAt  string `json:"last_import_at"`
	LastStatus    string `json:"last_status"`
	LastSuccessAt string `json:"last_success_at,omitempty"`
	Advisories    int64  `json:"advisories"`
}

// AdvisoryDoc is one advisory and the hosts exposed to it.
type AdvisoryDoc struct {
	ID         string           `json:"id"`
	Aliases    []string         `json:"aliases"`
	Summary    string           `json:"summary,omitempty"`
	Severity   string           `json:"severity"`
	CVSSScore  *float64         `json:"cvss_score,omitempty"`
	CVSSVector string           `json:"cvss_vector,omitempty"`
	Hosts      []ExposedHostDoc `json:"hosts"`
}

// ExposedHostDoc is one host's exposure to an advisory through one (source) package.
type ExposedHostDoc struct {
	HostID           string   `json:"host_id"`
	Hostname         string   `json:"hostname"`
	Release          string   `json:"release"`
	Package          string   `json:"package"`
	Binaries         []string `json:"binaries"`
	InstalledVersion string   `json:"installed_version"`
	FixedVersion     string   `json:"fixed_version,omitempty"`
	FixInstallable   bool     `json:"fix_installable"`
	FirstSeen        string   `json:"first_seen"`
}

// ExposurePoint is the exposure open at one instant: hosts exposed to any advisory and
// (host, advisory) pairs.
type ExposurePoint struct {
	At        string `json:"at"`
	Hosts     int64  `json:"hosts"`
	Exposures int64  `json:"exposures"`
}

// stamp formats t as the documents do.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func stampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}
