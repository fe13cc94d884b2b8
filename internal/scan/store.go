package scan

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/pg"
)

// store writes a finished scan in one transaction: the scan's end (once: a repeated
// attempt finds it ended and writes nothing), the evidence not stored yet, the states that
// changed and their transitions, the host's rollups that changed, and the changes to the
// fleet totals; then announces it. Nothing is written for results that did not change.
func (s *Service) store(ctx context.Context, row dbq.Scan, run *engine.Scan) error {
	results, err := resultsOf(run)
	if err != nil {
		return err
	}
	counts := tally{}
	for _, r := range results {
		counts.add(r.Status, r.Severity, 1)
	}
	now := s.now()
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		stored, err := q.ComplianceStatesOfHost(ctx, row.HostID)
		if err != nil {
			return err
		}
		old := statesOf(stored)
		before, err := hostRollups(ctx, q, row.HostID)
		if err != nil {
			return err
		}
		// A fail that an exception in force accepts is recorded as excepted.
		if err := exceptResults(ctx, q, row.HostID, results, now); err != nil {
			return err
		}
		changes := diff(old, results)
		finished, err := q.ScanFinish(ctx, dbq.ScanFinishParams{
			ID: row.ID, Status: "completed", FinishedAt: now, RulesTotal: int32(len(results)),
			RecordsTotal: int32(run.Records), RecordsDone: int32(run.Records),
			PassCount: counts.Pass, FailCount: counts.Fail, SkippedCount: counts.Skipped, ErrorCount: counts.Error,
			ChangedCount: int32(countStateChanges(changes)), Sessions: int32(run.Sessions),
			Privilege: string(run.Privilege), OsFamily: run.Host.Family, OsVersion: string(run.Host.Version),
			Timings: timingsJSON(run.Timings),
		})
		if err != nil {
			return pg.NotFoundAs(err, errEnded) // another attempt finished it
		}
		// The writes travel with COMMIT.
		w := dbq.New(pg.AtCommit(tx))
		if len(changes) > 0 {
			if err := writeChanges(ctx, w, row.HostID, row.ID, results, changes, now); err != nil {
				return err
			}
		}
		after := rollups(apply(old, changes, now), s.cat.FrameworksOf)
		if err := writeRollups(ctx, w, row.HostID, before, after, now); err != nil {
			return err
		}
		if err := writeRuleFleet(ctx, w, ruleDeltas(changes)); err != nil {
			return err
		}
		if err := w.HostLastScanSet(ctx, dbq.HostLastScanSetParams{HostID: row.HostID, At: &now}); err != nil {
			return err
		}
		// Every process's fleet cache hears of it at commit.
		if _, err := pg.AtCommit(tx).Exec(ctx, "SELECT pg_notify($1, '')", ComplianceChannel); err != nil {
			return err
		}
		if err := s.scanEnded(ctx, tx, finished, map[string]any{
			"pass": counts.Pass, "fail": counts.Fail, "skipped": counts.Skipped, "error": counts.Error,
			"changed": finished.ChangedCount,
		}); err != nil {
			return err
		}
		// The alerts come after scanEnded: a batch's lock is taken before the event log's,
		// which raising an alert takes.
		if len(changes) > 0 {
			if err := s.raiseDrift(ctx, tx, row, changes, now); err != nil {
				return err
			}
		}
		return s.judgeHostScores(ctx, tx, row, before, after, now)
	})
	if errors.Is(err, errEnded) {
		return nil
	}
	if err == nil && s.opts.Finished != nil {
		s.opts.Finished(run.Duration, len(results), true)
	}
	return pg.Translate(err)
}

// countStateChanges counts the changes a person would call changes: new results and new
// statuses.
func countStateChanges(changes []change) int {
	n := 0
	for _, c := range changes {
		if c.Kind == KindFirstSeen || c.Kind == KindStateChanged {
			n++
		}
	}
	return n
}

// statesOf indexes a host's stored states by rule.
func statesOf(stored []dbq.ComplianceStatesOfHostRow) map[string]state {
	old := make(map[string]state, len(stored))
	for _, st := range stored {
		ex := ""
		if st.ExceptionID != nil {
			ex = st.ExceptionID.String()
		}
		old[st.RuleID] = state{Status: st.Status, Severity: st.Severity, Reason: st.Reason, Hash: st.EvidenceHash,
			FirstSeen: st.FirstSeenAt, ExceptionID: ex, ScanID: st.ScanID}
	}
	return old
}

// hostRollups returns a host's stored rollups by framework.
func hostRollups(ctx context.Context, q *dbq.Queries, hostID uuid.UUID) (map[string]tally, error) {
	rows, err := q.HostComplianceOfHost(ctx, hostID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]tally, len(rows))
	for _, r := range rows {
		out[r.Framework] = tally{r.PassCount, r.FailCount, r.SkippedCount, r.ErrorCount, r.CriticalFailing, r.ExceptedCount}
	}
	return out, nil
}

// exceptResults turns each fail that an approved, unexpired exception covering the host
// accepts into excepted, naming the exception.
func exceptResults(ctx context.Context, q *dbq.Queries, hostID uuid.UUID, results []result, now time.Time) error {
	rows, err := q.ExceptionsInForceForHost(ctx, dbq.ExceptionsInForceForHostParams{HostID: hostID, At: now})
	if err != nil || len(rows) == 0 {
		return err
	}
	inForce := make(map[string]uuid.UUID, len(rows))
	for _, r := range rows {
		inForce[r.RuleID] = r.ID
	}
	for i, r := range results {
		if id, ok := inForce[r.RuleID]; ok && r.Status == string(engine.StatusFail) {
			results[i].Status, results[i].ExceptionID = StatusExcepted, id.String()
		}
	}
	return nil
}

// writeChanges stores new evidence, the changed states and their transitions. A change
// without a scan id is the storing scan's (scanID).
func writeChanges(ctx context.Context, w *dbq.Queries, hostID, scanID uuid.UUID, results []result, changes []change, now time.Time) error {
	bodies := make(map[string][]byte, len(changes))
	for _, r := range results {
		bodies[string(r.Hash)] = r.Body
	}
	var hashes, evBodies [][]byte
	seen := map[string]bool{}
	n := len(changes)
	ids, scanIDs := make([]uuid.UUID, n), make([]uuid.UUID, n)
	exceptionIDs := make([]string, n)
	ruleIDs, kinds, statuses, prevStatuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	severities, prevSeverities, reasons := make([]string, n), make([]string, n), make([]string, n)
	evHashes := make([][]byte, n)
	firstSeen := make([]time.Time, n)
	for i, c := range changes {
		if body, ok := bodies[string(c.Hash)]; ok && !seen[string(c.Hash)] {
			seen[string(c.Hash)] = true
			hashes, evBodies = append(hashes, c.Hash), append(evBodies, body)
		}
		ids[i] = newID()
		ruleIDs[i], kinds[i], statuses[i], prevStatuses[i] = c.RuleID, c.Kind, c.Status, c.PrevStatus
		severities[i], prevSeverities[i], reasons[i], evHashes[i] = c.Severity, c.PrevSeverity, c.Reason, c.Hash
		firstSeen[i], exceptionIDs[i], scanIDs[i] = c.FirstSeen, c.ExceptionID, c.ScanID
		if c.ScanID == uuid.Nil {
			scanIDs[i] = scanID
		}
		if c.Kind == KindFirstSeen {
			firstSeen[i] = now
		}
	}
	if len(hashes) > 0 {
		if err := w.EvidenceInsert(ctx, dbq.EvidenceInsertParams{Hashes: hashes, Bodies: evBodies, CreatedAt: now}); err != nil {
			return err
		}
	}
	if err := w.RuleStatesUpsert(ctx, dbq.RuleStatesUpsertParams{HostID: hostID, RuleIds: ruleIDs, Statuses: statuses,
		Severities: severities, Reasons: reasons, EvidenceHashes: evHashes, ScanIds: scanIDs, FirstSeen: firstSeen,
		ExceptionIds: exceptionIDs, ChangedAt: now}); err != nil {
		return err
	}
	return w.RuleTransitionsInsert(ctx, dbq.RuleTransitionsInsertParams{Ids: ids, HostID: hostID, RuleIds: ruleIDs,
		ScanIds: scanIDs, Kinds: kinds, Statuses: statuses, PreviousStatuses: prevStatuses, Severities: severities,
		PreviousSeverities: prevSeverities, Reasons: reasons, EvidenceHashes: evHashes, ExceptionIds: exceptionIDs,
		OccurredAt: now})
}

// writeRollups writes the host's rollups that changed (with their history) and adds the
// differences to the fleet totals.
func writeRollups(ctx context.Context, w *dbq.Queries, hostID uuid.UUID, before, after map[string]tally, now time.Time) error {
	frameworks := slices.Sorted(maps.Keys(after))
	for f := range before {
		if _, ok := after[f]; !ok {
			frameworks = append(frameworks, f) // counted before, nothing now
		}
	}
	var up dbq.HostComplianceUpsertParams
	var fleet dbq.FleetComplianceAddParams
	for _, f := range frameworks {
		b, a := before[f], after[f]
		if a == b {
			continue
		}
		up.Frameworks = append(up.Frameworks, f)
		up.Pass, up.Fail, up.Skipped = append(up.Pass, a.Pass), append(up.Fail, a.Fail), append(up.Skipped, a.Skipped)
		up.Errors, up.Critical = append(up.Errors, a.Error), append(up.Critical, a.Critical)
		up.Excepted = append(up.Excepted, a.Excepted)
		d := a.minus(b)
		fleet.Frameworks = append(fleet.Frameworks, f)
		fleet.Pass, fleet.Fail, fleet.Skipped, fleet.Errors = append(fleet.Pass, d.Pass), append(fleet.Fail, d.Fail),
			append(fleet.Skipped, d.Skipped), append(fleet.Errors, d.Error)
		fleet.Excepted = append(fleet.Excepted, d.Excepted)
	}
	if len(up.Frameworks) == 0 {
		return nil
	}
	up.HostID, up.At = hostID, now
	if err := w.HostComplianceUpsert(ctx, up); err != nil {
		return err
	}
	fleet.HostID = hostID
	return w.FleetComplianceAdd(ctx, fleet)
}

// writeRuleFleet adds the changes of per-rule host counts.
func writeRuleFleet(ctx context.Context, w *dbq.Queries, deltas map[string]tally) error {
	if len(deltas) == 0 {
		return nil
	}
	var p dbq.RuleFleetAddParams
	for _, id := range slices.Sorted(maps.Keys(deltas)) {
		d := deltas[id]
		p.RuleIds = append(p.RuleIds, id)
		p.Pass, p.Fail, p.Skipped, p.Errors = append(p.Pass, d.Pass), append(p.Fail, d.Fail), append(p.Skipped, d.Skipped), append(p.Errors, d.Error)
		p.Excepted = append(p.Excepted, d.Excepted)
	}
	return w.RuleFleetAdd(ctx, p)
}
