package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/engine"
)

// Restated is a host's result of a rule that an exception taking effect or ending
// changed: fail → excepted or excepted → fail.
type Restated struct {
	HostID             uuid.UUID
	RuleID             string
	Status, PrevStatus string
	Severity           string
	Reason             string
}

// ReconcileExceptionsTx brings the hosts' results of a rule in line with the exceptions in
// force at now, inside the caller's transaction (the one that approves, revokes or expires
// an exception): a fail that an approved, unexpired exception covers becomes excepted
// naming it, an excepted result that none covers any more becomes fail again, and one
// covered by another exception names that one. Each change is written as an ingested scan
// writes it: the state, its transition (kept with the scan that found the result), the
// host's rollups and their history, the fleet totals and the per-rule host counts. It
// returns the status changes made.
func (s *Service) ReconcileExceptionsTx(ctx context.Context, tx pgx.Tx, hostIDs []uuid.UUID, ruleID string, now time.Time) ([]Restated, error) {
	q := dbq.New(tx)
	var out []Restated
	for _, hostID := range hostIDs {
		stored, err := q.ComplianceStatesOfHost(ctx, hostID)
		if err != nil {
			return nil, err
		}
		old := statesOf(stored)
		cur, ok := old[ruleID]
		if !ok || (cur.Status != string(engine.StatusFail) && cur.Status != StatusExcepted) {
			continue
		}
		inForce, err := q.ExceptionsInForceForHost(ctx, dbq.ExceptionsInForceForHostParams{HostID: hostID, At: now})
		if err != nil {
			return nil, err
		}
		want := change{RuleID: ruleID, Status: string(engine.StatusFail), Severity: cur.Severity, Reason: cur.Reason,
			Hash: cur.Hash, FirstSeen: cur.FirstSeen, ScanID: cur.ScanID, PrevStatus: cur.Status, PrevSeverity: cur.Severity}
		for _, e := range inForce {
			if e.RuleID == ruleID {
				want.Status, want.ExceptionID = StatusExcepted, e.ID.String()
			}
		}
		switch {
		case want.Status != cur.Status:
			want.Kind = KindStateChanged
		case want.ExceptionID != cur.ExceptionID:
			want.Kind = KindEvidenceChanged // another exception accepts it now
		default:
			continue
		}
		before, err := hostRollups(ctx, q, hostID)
		if err != nil {
			return nil, err
		}
		changes := []change{want}
		if err := writeChanges(ctx, q, hostID, cur.ScanID, nil, changes, now); err != nil {
			return nil, err
		}
		after := rollups(apply(old, changes, now), s.cat.FrameworksOf)
		if err := writeRollups(ctx, q, hostID, before, after, now); err != nil {
			return nil, err
		}
		if err := writeRuleFleet(ctx, q, ruleDeltas(changes)); err != nil {
			return nil, err
		}
		if want.Kind == KindStateChanged {
			out = append(out, Restated{HostID: hostID, RuleID: ruleID, Status: want.Status, PrevStatus: cur.Status,
				Severity: cur.Severity, Reason: cur.Reason})
		}
	}
	if len(out) > 0 {
		// Every process's fleet cache and host list hear of it at commit.
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", ComplianceChannel); err != nil {
			return nil, fmt.Errorf("notify compliance change: %w", err)
		}
	}
	return out, nil
}

// RuleKnown reports whether the rule is in the corpus.
func (s *Service) RuleKnown(ruleID string) bool {
	_, ok := s.cat.Rule(ruleID)
	return ok
}

// RuleSeverityTitle returns a rule's severity and title ("medium" and its id when the rule
// left the corpus).
func (s *Service) RuleSeverityTitle(ruleID string) (severity, title string) {
	r, ok := s.cat.Rule(ruleID)
	if !ok {
		return "medium", ruleID
	}
	title = r.Title
	if title == "" {
		title = ruleID
	}
	return string(r.Severity), title
}
