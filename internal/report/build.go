package report

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/scan"
)

// auditBatch is how many audit events an audit report reads per query.
const auditBatch = 1000

// trendPoints is how many daily points a compliance report's score trend has.
const trendPoints = 30

// publish puts a report event on the live stream (topic jobs) in tx.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, r dbq.Report, typ string) error {
	data := map[string]any{"report_id": r.ID.String(), "kind": r.Kind, "status": r.Status, "progress": r.Progress}
	if r.Error != nil {
		data["error"] = *r.Error
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicJobs, Type: typ, Permission: "report:read", Data: data})
	return err
}

// Run builds, signs and stores a queued report (the generation job). A report that cannot
// be built ends failed with the reason; Run then returns nil.
func (s *Service) Run(ctx context.Context, id uuid.UUID) error {
	var row dbq.Report
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if row, err = s.q.WithTx(tx).ReportStart(ctx, dbq.ReportStartParams{ID: id, At: ptr(s.now())}); err != nil {
			return err
		}
		return s.publish(ctx, tx, row, "report.progress")
	})
	if err != nil {
		if pg.IgnoreNotFound(err) == nil {
			return nil // ended or gone
		}
		return pg.Translate(err)
	}
	if err := s.complete(ctx, row); err != nil {
		s.log.ErrorContext(ctx, "report generation failed", slog.String("report_id", id.String()), slog.Any("error", err))
		msg := "The report could not be generated: " + err.Error()
		return pg.WithTx(context.WithoutCancel(ctx), s.pool, func(tx pgx.Tx) error {
			failed, err := s.q.WithTx(tx).ReportFail(ctx, dbq.ReportFailParams{ID: id, Error: &msg, FinishedAt: ptr(s.now())})
			if err != nil {
				return pg.IgnoreNotFound(err)
			}
			if failed.ScheduleID != nil {
				if err := s.q.WithTx(tx).ReportScheduleSetError(ctx, dbq.ReportScheduleSetErrorParams{ID: *failed.ScheduleID,
					ReportID: &failed.ID, LastError: &msg}); err != nil {
					return pg.Translate(err)
				}
			}
			return s.publish(ctx, tx, failed, "report.failed")
		})
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// progress records and publishes how far a running report is.
func (s *Service) progress(ctx context.Context, r dbq.Report, pct int) {
	r.Progress = int32(min(max(pct, 0), 99))
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.WithTx(tx).ReportProgress(ctx, dbq.ReportProgressParams{ID: r.ID, Progress: r.Progress}); err != nil {
			return pg.Translate(err)
		}
		return s.publish(ctx, tx, r, "report.progress")
	})
	if err != nil {
		s.log.WarnContext(ctx, "report progress not recorded", slog.Any("error", err))
	}
}

// complete builds the document of a running report, signs it and stores it.
func (s *Service) complete(ctx context.Context, row dbq.Report) error {
	r, err := fromRow(row)
	if err != nil {
		return err
	}
	generatedAt := s.now().UTC().Truncate(time.Microsecond)
	head, err := s.q.AuditHeadGet(ctx)
	if err := pg.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("read the audit chain head: %w", err)
	}
	doc := Document{Format: FormatVersion, ID: r.ID.String(), Kind: r.Kind, Title: r.Title, GeneratedAt: stamp(generatedAt),
		GeneratedBy: Actor{ID: r.RequestedBy, Name: r.RequestedByName}, OpenWatchVersion: s.version,
		Scope: ScopeDoc{Type: r.Scope.Type}, Parameters: r.Parameters,
		AuditChainHead: ChainHead{Seq: head.Seq, Hash: hex.EncodeToString(head.Mac)}}
	if r.Scope.ID != nil {
		doc.Scope.ID = r.Scope.ID.String()
		if doc.Scope.Name, err = s.scopeName(ctx, r.Scope); err != nil {
			return fmt.Errorf("the report's %s no longer exists", r.Scope.Type)
		}
	}
	switch r.Kind {
	case KindCompliance, KindPosture:
		at := generatedAt
		if r.Parameters.AsOf != nil {
			at = *r.Parameters.AsOf
		}
		err = s.buildCompliance(ctx, row, r, &doc, at)
	case KindAudit:
		err = s.buildAudit(ctx, r, &doc)
	case KindPatchHistory:
		err = s.buildPatchHistory(ctx, r, &doc)
	case KindVulnerability:
		err = s.buildVulnerability(ctx, r, &doc, generatedAt)
	default:
		err = fmt.Errorf("unknown report kind %q", r.Kind)
	}
	if err != nil {
		return err
	}
	content, err := Canonical(doc)
	if err != nil {
		return err
	}
	summary, err := json.Marshal(doc.Summary)
	if err != nil {
		return err
	}
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		key, err := s.activeKey(ctx, q)
		if err != nil {
			return err
		}
		sg, err := s.signer(key)
		if err != nil {
			return err
		}
		sig := b64.EncodeToString(sg.Sign(content))
		done, err := q.ReportComplete(ctx, dbq.ReportCompleteParams{ID: row.ID, Content: ptr(string(content)), Signature: &sig,
			SigningKeyID: &key.KeyID, Summary: summary, ChainHeadSeq: &head.Seq, ChainHeadHash: &doc.AuditChainHead.Hash,
			GeneratedAt: &generatedAt, FinishedAt: ptr(s.now())})
		if err != nil {
			return pg.Translate(err)
		}
		if err := s.queueDeliveries(ctx, tx, done); err != nil {
			return err
		}
		return s.publish(ctx, tx, done, "report.completed")
	})
}

// buildCompliance fills a compliance or posture report: the scope's hosts with each rule's
// result at at (now for a compliance report), the exceptions in force then, the summary
// and the score trend over the trendPoints days up to at.
func (s *Service) buildCompliance(ctx context.Context, row dbq.Report, r Report, doc *Document, at time.Time) error {
	framework := scan.FrameworkAll
	var only map[string]bool
	if f := r.Parameters.Framework; f != "" && f != scan.FrameworkAll {
		fw, ok := s.catalog.Framework(f)
		if !ok {
			return fmt.Errorf("unknown framework %q", f)
		}
		framework = fw.ID
		only = make(map[string]bool, len(fw.Rules))
		for _, ru := range fw.Rules {
			only[ru.ID] = true
		}
	}
	hosts, err := s.q.ReportHostsInScope(ctx, dbq.ReportHostsInScopeParams{Scope: r.Scope.Type, ScopeID: r.Scope.ID})
	if err != nil {
		return pg.Translate(err)
	}
	c := &Compliance{Framework: framework, Hosts: []HostSection{}, Exceptions: []ExceptionDoc{}, Trend: []TrendPoint{}}
	if r.Kind == KindPosture {
		c.AsOf = ptr(stamp(at))
	}
	var total Counts
	failing := map[string]int64{}
	ids := make([]uuid.UUID, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
		var states []dbq.ReportHostStatesRow
		if r.Kind == KindPosture {
			rows, err := s.q.ReportHostStatesAt(ctx, dbq.ReportHostStatesAtParams{HostID: h.ID, At: at})
			if err != nil {
				return pg.Translate(err)
			}
			for _, x := range rows {
				states = append(states, dbq.ReportHostStatesRow(x))
			}
		} else if states, err = s.q.ReportHostStates(ctx, h.ID); err != nil {
			return pg.Translate(err)
		}
		name := h.Hostname
		if h.DisplayName != "" {
			name = h.DisplayName
		}
		sec := HostSection{HostID: h.ID.String(), Hostname: name, Environment: h.Environment, Results: []ResultDoc{}}
		for _, st := range states {
			if only != nil && !only[st.RuleID] {
				continue
			}
			res := ResultDoc{RuleID: st.RuleID, Title: st.RuleID, Severity: st.Severity, Status: st.Status, Reason: st.Reason,
				ScanID: st.ScanID.String(), ChangedAt: stamp(st.ChangedAt),
				Evidence: fmt.Sprintf("/api/v1/scans/%s/rules/%s/evidence", st.ScanID, st.RuleID)}
			if ru, ok := s.catalog.Rule(st.RuleID); ok {
				res.Title = ru.Title
			}
			if st.ExceptionID != nil {
				res.ExceptionID = st.ExceptionID.String()
			}
			sec.Counts.add(st.Status)
			if st.Status == "fail" {
				failing[st.Severity]++
			}
			sec.Results = append(sec.Results, res)
		}
		sec.ScorePercent = sec.Counts.score()
		total.Pass += sec.Counts.Pass
		total.Fail += sec.Counts.Fail
		total.Skipped += sec.Counts.Skipped
		total.Error += sec.Counts.Error
		total.Excepted += sec.Counts.Excepted
		c.Hosts = append(c.Hosts, sec)
		if len(hosts) >= 10 && i%(len(hosts)/10) == 0 {
			s.progress(ctx, row, 10+i*70/len(hosts))
		}
	}
	exceptions, err := s.q.ReportExceptionsInForce(ctx, dbq.ReportExceptionsInForceParams{At: &at, HostIds: ids})
	if err != nil {
		return pg.Translate(err)
	}
	for _, e := range exceptions {
		if only != nil && !only[e.RuleID] {
			continue
		}
		d := ExceptionDoc{ID: e.ID.String(), RuleID: e.RuleID, Scope: e.Scope, Reason: e.Reason, RequestedBy: e.RequestedBy,
			ApprovedAt: stampPtr(e.DecidedAt), ExpiresAt: stamp(e.ExpiresAt)}
		if e.DecidedBy != nil {
			d.ApprovedBy = *e.DecidedBy
		}
		if e.HostID != nil {
			d.HostID = e.HostID.String()
		}
		if e.GroupID != nil {
			d.GroupID = e.GroupID.String()
		}
		c.Exceptions = append(c.Exceptions, d)
	}
	if c.Trend, err = s.trend(ctx, r.Scope, framework, ids, at); err != nil {
		return err
	}
	n := int64(len(hosts))
	nx := int64(len(c.Exceptions))
	doc.Summary = Summary{Hosts: &n, Results: &total, ScorePercent: total.score(), FailingBySeverity: failing, ExceptionsInForce: &nx}
	doc.Parameters.Framework = framework
	doc.Compliance = c
	return nil
}

// trend reads the scope's counts at the end of each of the trendPoints days up to at: the
// fleet's recorded totals, or the sum of the hosts' rollup history.
func (s *Service) trend(ctx context.Context, sc ScopeInput, framework string, hosts []uuid.UUID, at time.Time) ([]TrendPoint, error) {
	ends := make([]time.Time, trendPoints)
	for i := range ends {
		ends[i] = at.Add(-time.Duration(trendPoints-1-i) * 24 * time.Hour)
	}
	pass := make([]int64, len(ends))
	fail := make([]int64, len(ends))
	if sc.Type == ScopeFleet {
		rows, err := s.q.FleetComplianceTrend(ctx, dbq.FleetComplianceTrendParams{Ends: ends, Framework: framework})
		if err != nil {
			return nil, pg.Translate(err)
		}
		for i, p := range rows {
			pass[i], fail[i] = p.Pass, p.Fail
		}
	} else {
		for _, h := range hosts {
			rows, err := s.q.HostComplianceTrend(ctx, dbq.HostComplianceTrendParams{Ends: ends, HostID: h, Framework: framework})
			if err != nil {
				return nil, pg.Translate(err)
			}
			for i, p := range rows {
				pass[i] += p.Pass
				fail[i] += p.Fail
			}
		}
	}
	out := make([]TrendPoint, len(ends))
	for i, e := range ends {
		out[i] = TrendPoint{At: stamp(e), Pass: pass[i], Fail: fail[i], ScorePercent: Counts{Pass: pass[i], Fail: fail[i]}.score()}
	}
	return out, nil
}

// buildAudit fills an audit report: the events of the range in chain order, with their
// hashes, and the verification of the whole chain.
func (s *Service) buildAudit(ctx context.Context, r Report, doc *Document) error {
	since, until := *r.Parameters.Since, *r.Parameters.Until
	res, err := s.aw.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify the audit chain: %w", err)
	}
	a := &AuditTrail{Since: stamp(since), Until: stamp(until), Events: []AuditEventDoc{},
		Verification: Verification{OK: res.OK, Checked: res.Checked, FirstBrokenSeq: res.FirstBrokenSeq, Reason: res.Reason}}
	after := int64(0)
	for {
		rows, err := s.q.ReportAuditEvents(ctx, dbq.ReportAuditEventsParams{Since: since, Until: until, AfterSeq: after, RowLimit: auditBatch})
		if err != nil {
			return pg.Translate(err)
		}
		for _, e := range rows {
			d := AuditEventDoc{Seq: e.Seq, ID: e.ID.String(), OccurredAt: stamp(e.OccurredAt), Action: e.Action,
				Severity: e.Severity, ActorType: e.ActorType, CorrelationID: e.CorrelationID, Detail: json.RawMessage(e.Detail),
				PrevHash: hex.EncodeToString(e.PrevMac), Hash: hex.EncodeToString(e.Mac)}
			if len(d.Detail) == 0 {
				d.Detail = json.RawMessage("{}")
			}
			if e.ActorID != nil {
				d.ActorID = *e.ActorID
			}
			if e.ResourceType != nil {
				d.ResourceType = *e.ResourceType
			}
			if e.ResourceID != nil {
				d.ResourceID = *e.ResourceID
			}
			if len(a.Events) == s.maxEvents {
				// Events committed into the range after it was requested.
				return fmt.Errorf("the range holds more than %d audit events, the most an audit report holds: narrow since and until", s.maxEvents)
			}
			a.Events = append(a.Events, d)
			after = e.Seq
		}
		if len(rows) < auditBatch {
			break
		}
	}
	n := int64(len(a.Events))
	doc.Summary = Summary{Events: &n, ChainVerified: &res.OK}
	doc.Audit = a
	return nil
}

// buildPatchHistory fills a patch history report: the patch and remediation jobs created
// in the range and the outcome on each of their hosts.
func (s *Service) buildPatchHistory(ctx context.Context, r Report, doc *Document) error {
	since, until := *r.Parameters.Since, *r.Parameters.Until
	jobs, err := s.q.ReportChangeJobs(ctx, dbq.ReportChangeJobsParams{Since: since, Until: until})
	if err != nil {
		return pg.Translate(err)
	}
	ids := make([]uuid.UUID, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	hosts, err := s.q.ReportChangeJobHosts(ctx, ids)
	if err != nil {
		return pg.Translate(err)
	}
	byJob := map[uuid.UUID][]JobHostDoc{}
	outcomes := map[string]int64{}
	for _, h := range hosts {
		d := JobHostDoc{HostID: h.HostID.String(), HostName: h.HostName, Status: h.Status, StartedAt: stampPtr(h.StartedAt),
			FinishedAt: stampPtr(h.FinishedAt), Rebooted: h.Rebooted}
		if h.Error != nil {
			d.Error = *h.Error
		}
		byJob[h.JobID] = append(byJob[h.JobID], d)
		outcomes[h.Status]++
	}
	p := &PatchHistory{Since: stamp(since), Until: stamp(until), Jobs: []JobDoc{}}
	for _, j := range jobs {
		d := JobDoc{ID: j.ID.String(), Kind: j.Kind, Name: j.Name, Status: j.Status, RequestedBy: j.RequestedByName,
			CreatedAt: stamp(j.CreatedAt), StartedAt: stampPtr(j.StartedAt), FinishedAt: stampPtr(j.FinishedAt), Hosts: byJob[j.ID]}
		if d.Hosts == nil {
			d.Hosts = []JobHostDoc{}
		}
		if j.DecidedByName != nil {
			d.DecidedBy = *j.DecidedByName
		}
		p.Jobs = append(p.Jobs, d)
	}
	n := int64(len(jobs))
	doc.Summary = Summary{Jobs: &n, HostOutcomes: outcomes}
	doc.PatchHistory = p
	return nil
}

// severityRanks are the advisory severities by rank (vuln_advisories.severity_rank).
var severityRanks = map[string]int16{"critical": 5, "high": 4, "medium": 3, "low": 2, "negligible": 1, "unknown": 0}

// buildVulnerability fills a vulnerability exposure report: the scope's open exposures per
// advisory (of at least the minimum severity), the counts by severity, the exposure at
// the end of each of the trendPoints days up to now, and the feeds' last imports.
func (s *Service) buildVulnerability(ctx context.Context, r Report, doc *Document, at time.Time) error {
	minRank := severityRanks[r.Parameters.MinSeverity] // "" (every severity) ranks 0
	rows, err := s.q.ReportVulnExposures(ctx, dbq.ReportVulnExposuresParams{MinRank: minRank, Scope: r.Scope.Type, ScopeID: r.Scope.ID})
	if err != nil {
		return pg.Translate(err)
	}
	v := &Vulnerability{Feeds: []FeedDoc{}, Advisories: []AdvisoryDoc{}, Trend: []ExposurePoint{}}
	bySeverity := map[string]int64{}
	// worst is each exposed host's most severe advisory (rows come most severe first).
	worst := map[uuid.UUID]string{}
	for _, e := range rows {
		if n := len(v.Advisories); n == 0 || v.Advisories[n-1].ID != e.AdvisoryID {
			a := AdvisoryDoc{ID: e.AdvisoryID, Aliases: e.Aliases, Summary: e.Summary, Severity: e.Severity, CVSSScore: e.CvssScore,
				Hosts: []ExposedHostDoc{}}
			if a.Aliases == nil {
				a.Aliases = []string{}
			}
			if e.CvssVector != nil {
				a.CVSSVector = *e.CvssVector
			}
			v.Advisories = append(v.Advisories, a)
			bySeverity[e.Severity]++
		}
		name := e.Hostname
		if e.DisplayName != "" {
			name = e.DisplayName
		}
		h := ExposedHostDoc{HostID: e.HostID.String(), Hostname: name, Release: e.Release, Package: e.Package, Binaries: e.Binaries,
			InstalledVersion: e.InstalledVersion, FixInstallable: e.FixedVersion != nil, FirstSeen: stamp(e.FirstSeen)}
		if h.Binaries == nil {
			h.Binaries = []string{}
		}
		if e.FixedVersion != nil {
			h.FixedVersion = *e.FixedVersion
		}
		a := &v.Advisories[len(v.Advisories)-1]
		a.Hosts = append(a.Hosts, h)
		if _, ok := worst[e.HostID]; !ok {
			worst[e.HostID] = e.Severity
		}
	}
	hostsBySeverity := map[string]int64{}
	for _, sev := range worst {
		hostsBySeverity[sev]++
	}
	ends := make([]time.Time, trendPoints)
	for i := range ends {
		ends[i] = at.Add(-time.Duration(trendPoints-1-i) * 24 * time.Hour)
	}
	trend, err := s.q.ReportVulnTrend(ctx, dbq.ReportVulnTrendParams{Ends: ends, MinRank: minRank, Scope: r.Scope.Type, ScopeID: r.Scope.ID})
	if err != nil {
		return pg.Translate(err)
	}
	for _, p := range trend {
		v.Trend = append(v.Trend, ExposurePoint{At: stamp(p.At), Hosts: p.Hosts, Exposures: p.Exposures})
	}
	feeds, err := s.q.ReportVulnFeeds(ctx)
	if err != nil {
		return pg.Translate(err)
	}
	for _, f := range feeds {
		d := FeedDoc{Source: f.Source, Imports: f.Imports, LastImportAt: stamp(f.LastImportAt), LastStatus: f.LastStatus,
			Advisories: f.Advisories}
		if f.LastSuccessAt.After(time.Unix(0, 0)) {
			d.LastSuccessAt = stamp(f.LastSuccessAt)
		}
		v.Feeds = append(v.Feeds, d)
	}
	na, nh := int64(len(v.Advisories)), int64(len(worst))
	doc.Summary = Summary{Advisories: &na, ExposedHosts: &nh, AdvisoriesBySeverity: bySeverity, ExposedHostsBySeverity: hostsBySeverity}
	doc.Vulnerability = v
	return nil
}
