package scan

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/pg"
)

// The alert types raised from scans and the fleet's totals (besides compliance_drift).
const (
	// AlertScoreDrop: a host's score of a framework fell by the drop threshold in one scan,
	// or below the floor.
	AlertScoreDrop = "score_drop"
	// AlertFleetScoreDrop: the fleet's score of a framework fell by the drop threshold
	// within the window, or below the floor.
	AlertFleetScoreDrop = "fleet_score_drop"
	// AlertScanFailing: a host's scans failed so many times in a row.
	AlertScanFailing = "scan_failing"
)

// The severities of the sources.
const (
	scoreDropSeverity  = "medium" // a host's score dropped, still above the floor
	scoreFloorSeverity = "high"   // a host's score below the floor
	fleetScoreSeverity = "high"
	scanFailSeverity   = "high"
)

func scoreDropKey(hostID uuid.UUID, framework string) string {
	return AlertScoreDrop + ":" + hostID.String() + ":" + framework
}

func fleetScoreKey(framework string) string { return AlertFleetScoreDrop + ":" + framework }

func scanFailingKey(hostID uuid.UUID) string { return AlertScanFailing + ":" + hostID.String() }

func (s *Service) frameworkName(id string) string {
	if f, ok := s.cat.Framework(id); ok && f.Name != "" {
		return f.Name
	}
	return id
}

// judgeHostScores keeps a host's score_drop alerts in step with a finished scan, in its
// transaction: each framework whose rollup changed and that has a score (a pass or a
// fail) is judged against the score before the scan (see alert.JudgeScoreTx).
func (s *Service) judgeHostScores(ctx context.Context, tx pgx.Tx, row dbq.Scan, before, after map[string]tally, now time.Time) error {
	var frameworks, keys []string
	for _, f := range slices.Sorted(maps.Keys(after)) {
		if a := after[f]; a != before[f] && a.Pass+a.Fail > 0 && s.scoredFor(f, row.OsFamily, row.OsVersion) {
			frameworks, keys = append(frameworks, f), append(keys, scoreDropKey(row.HostID, f))
		}
	}
	if len(frameworks) == 0 {
		return nil
	}
	live, err := alert.LiveTx(ctx, tx, keys)
	if err != nil {
		return err
	}
	th, err := alert.LoadConfig(ctx, tx, s.opts.AlertDefaults)
	if err != nil {
		return err
	}
	for i, f := range frameworks {
		a, b := after[f], before[f]
		sc := alert.Score{DedupKey: keys[i], AlertType: AlertScoreDrop, HostID: &row.HostID,
			Value:      fraction(a),
			DropPoints: th.ScoreDropPoints, FloorPercent: th.ScoreFloorPercent,
			Severity: scoreDropSeverity, FloorSeverity: scoreFloorSeverity,
			Subject: s.frameworkName(f) + " on the host",
			Tags:    map[string]any{"framework": f, "scan_id": row.ID, "pass": a.Pass, "fail": a.Fail}, At: now}
		if b.Pass+b.Fail > 0 {
			prev := fraction(b)
			sc.Baseline = &prev
			sc.Tags["previous_score"] = prev
		}
		var l *dbq.Alert
		if x, ok := live[keys[i]]; ok {
			l = &x
		}
		if _, err := alert.JudgeScoreTx(ctx, tx, s.aw, l, sc); err != nil {
			return err
		}
	}
	return nil
}

// benchmarkRelease splits a release's benchmark key ("rhel9", "ubuntu24") into the
// platform family and major version it was written for.
var benchmarkRelease = regexp.MustCompile(`^([a-z]+)(\d+)$`)

// scoredFor reports whether a host of family and version is judged on framework id: every
// framework but a benchmark written for another release (CIS or STIG "rhel9" applies to
// RHEL 9 hosts only), as the host's page shows its scores. Some of a benchmark's rules
// also run elsewhere, and their score there says nothing about that benchmark.
func (s *Service) scoredFor(id, family, version string) bool {
	f, ok := s.cat.Framework(id)
	if !ok {
		return true
	}
	m := benchmarkRelease.FindStringSubmatch(f.Benchmark)
	if m == nil {
		return true
	}
	major, _, _ := strings.Cut(version, ".")
	return strings.EqualFold(m[1], family) && (major == "" || m[2] == major)
}

func fraction(t tally) float64 { return float64(t.Pass) / float64(t.Pass+t.Fail) }

// judgeFleetScores keeps the fleet_score_drop alerts in step with the fleet's totals the
// snapshot job just recorded (rows), in its transaction: each framework with a score is
// judged against the highest score recorded within the window.
func (s *Service) judgeFleetScores(ctx context.Context, tx pgx.Tx, rows []dbq.FleetComplianceSnapshotRow, now time.Time) error {
	var keys []string
	for _, r := range rows {
		keys = append(keys, fleetScoreKey(r.Framework))
	}
	live, err := alert.LiveTx(ctx, tx, keys)
	if err != nil {
		return err
	}
	th, err := alert.LoadConfig(ctx, tx, s.opts.AlertDefaults)
	if err != nil {
		return err
	}
	window := time.Duration(th.FleetScoreWindowHours) * time.Hour
	q := dbq.New(tx)
	for _, r := range rows {
		if r.PassCount+r.FailCount == 0 {
			continue
		}
		key := fleetScoreKey(r.Framework)
		sc := alert.Score{DedupKey: key, AlertType: AlertFleetScoreDrop,
			Value:      float64(r.PassCount) / float64(r.PassCount+r.FailCount),
			DropPoints: th.FleetScoreDropPoints, FloorPercent: th.FleetScoreFloorPercent,
			Severity: fleetScoreSeverity, FloorSeverity: fleetScoreSeverity,
			Subject: s.frameworkName(r.Framework) + " across the fleet",
			Tags: map[string]any{"framework": r.Framework, "pass": r.PassCount, "fail": r.FailCount,
				"window_hours": th.FleetScoreWindowHours}, At: now}
		high, err := q.FleetScoreHighSince(ctx, dbq.FleetScoreHighSinceParams{Framework: r.Framework, Since: now.Add(-window)})
		if err != nil {
			return pg.Translate(err)
		}
		if high >= 0 {
			sc.Baseline = &high
		}
		var l *dbq.Alert
		if x, ok := live[key]; ok {
			l = &x
		}
		if _, err := alert.JudgeScoreTx(ctx, tx, s.aw, l, sc); err != nil {
			return err
		}
	}
	return nil
}

// judgeScanEnd keeps the host's scan_failing alert in step with a scan that just ended, in
// its transaction: a failed scan that makes ScanFailures or more failures in a row raises
// it (each further one counts an occurrence), a completed one resolves it, and a
// cancelled one changes nothing.
func (s *Service) judgeScanEnd(ctx context.Context, tx pgx.Tx, row dbq.Scan) error {
	switch row.Status {
	case "completed":
		_, err := alert.AutoResolveTx(ctx, tx, s.aw, scanFailingKey(row.HostID), s.now())
		return err
	case "failed":
	default:
		return nil
	}
	n, err := dbq.New(tx).ScanHostFailureStreak(ctx, row.HostID)
	if err != nil {
		return pg.Translate(err)
	}
	th, err := alert.LoadConfig(ctx, tx, s.opts.AlertDefaults)
	if err != nil {
		return err
	}
	if int(n) < th.ScanFailures {
		return nil
	}
	hostID := row.HostID
	_, err = alert.RaiseTx(ctx, tx, alert.Raise{
		DedupKey: scanFailingKey(hostID), AlertType: AlertScanFailing, Severity: scanFailSeverity, HostID: &hostID,
		Title: fmt.Sprintf("Scans of the host failed %d times in a row", n),
		Body:  "The last scan failed: " + row.Error + ". The alert resolves itself when a scan of the host completes.",
		Tags:  map[string]any{"scan_id": row.ID, "consecutive_failures": n, "error": row.Error},
		At:    s.now(),
	})
	return err
}
