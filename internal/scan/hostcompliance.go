package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// HostResult is a host's result of one rule, now or as of an instant.
type HostResult struct {
	RuleID   string
	Title    string
	Severity string
	Status   string
	Reason   string
	// ScanID is the scan that recorded the result (its evidence is there).
	ScanID uuid.UUID
	// ExceptionID names the exception that made a fail excepted.
	ExceptionID *uuid.UUID
	ChangedAt   time.Time
	// FirstSeenAt is when the rule was first evaluated on the host.
	FirstSeenAt time.Time
}

// Rollup is a host's results of a framework counted by status, with how many of the
// failing ones are critical.
type Rollup struct {
	Totals
	CriticalFailing int64
}

// Fraction is Totals.PassingFraction, nil when nothing passed or failed (the API's null).
func (t Totals) Fraction() *float64 {
	if t.Pass+t.Fail == 0 {
		return nil
	}
	f := t.PassingFraction()
	return &f
}

// HostResultFilter narrows a host's results: a framework (every rule when nil), an
// instant (now when nil), a status and a severity ("" for any).
type HostResultFilter struct {
	Framework        *string
	AsOf             *time.Time
	Status, Severity string
}

// HostResults is a page of a host's results and the summary of all of them (unfiltered).
type HostResults struct {
	Framework string
	AsOf      *time.Time
	Summary   Rollup
	Page      cursor.Page[HostResult]
}

func errHostNotFound() error { return apperr.NotFound("The host does not exist.") }

// HostResults pages a live host's results of a framework's rules by rule id, now (its
// current states) or as of an instant (each rule's latest change at or before it), with
// the framework's rollup then. The page and the summary come from one snapshot of the
// database, so they agree while a scan of the host commits. Guarded by compliance:read.
// Errors: validation_failed naming framework, resource.not_found for a host that does not
// exist or was deleted.
func (s *Service) HostResults(ctx context.Context, hostID uuid.UUID, f HostResultFilter, page cursor.Request[string]) (HostResults, error) {
	fw, err := s.framework("framework", f.Framework)
	if err != nil {
		return HostResults{}, err
	}
	// "all" reads every state of the host, so the items add up to the summary even for a
	// rule that has left the corpus since (rollups count it under "all").
	var ids []string
	if fw.ID != FrameworkAll {
		ids = ruleIDsOf(fw)
	}
	out := HostResults{Framework: fw.ID, AsOf: f.AsOf}
	var rows []dbq.HostRuleStatesPageRow
	err = s.readSnapshot(ctx, func(q *dbq.Queries) error {
		ok, err := q.ScanHostExists(ctx, hostID)
		if err != nil {
			return err
		}
		if !ok {
			return errHostNotFound()
		}
		status, severity := nonEmpty(f.Status), nonEmpty(f.Severity)
		if f.AsOf == nil {
			r, err := q.HostComplianceGet(ctx, dbq.HostComplianceGetParams{HostID: hostID, Framework: fw.ID})
			if err := pg.IgnoreNotFound(err); err != nil {
				return err
			}
			out.Summary = Rollup{Totals{int64(r.PassCount), int64(r.FailCount), int64(r.SkippedCount), int64(r.ErrorCount),
				int64(r.ExceptedCount)},
				int64(r.CriticalFailing)}
			rows, err = q.HostRuleStatesPage(ctx, dbq.HostRuleStatesPageParams{HostID: hostID, RuleIds: ids,
				Status: status, Severity: severity, After: page.After, RowLimit: page.Fetch()})
			return err
		}
		r, err := q.HostComplianceAt(ctx, dbq.HostComplianceAtParams{HostID: hostID, Framework: fw.ID, At: *f.AsOf})
		if err := pg.IgnoreNotFound(err); err != nil { // no row: nothing was scanned yet then
			return err
		}
		out.Summary = Rollup{Totals{int64(r.PassCount), int64(r.FailCount), int64(r.SkippedCount), int64(r.ErrorCount),
			int64(r.ExceptedCount)},
			int64(r.CriticalFailing)}
		at, err := q.HostRuleStatesPageAt(ctx, dbq.HostRuleStatesPageAtParams{HostID: hostID, At: *f.AsOf, RuleIds: ids,
			Status: status, Severity: severity, After: page.After, RowLimit: page.Fetch()})
		for _, r := range at {
			rows = append(rows, dbq.HostRuleStatesPageRow(r))
		}
		return err
	})
	if err != nil {
		return HostResults{}, err
	}
	results := make([]HostResult, len(rows))
	for i, r := range rows {
		title := r.RuleID
		if ru, ok := s.cat.Rule(r.RuleID); ok {
			title = ru.Title
		}
		results[i] = HostResult{RuleID: r.RuleID, Title: title, Severity: r.Severity, Status: r.Status, Reason: r.Reason,
			ScanID: r.ScanID, ChangedAt: r.ChangedAt, FirstSeenAt: r.FirstSeenAt, ExceptionID: r.ExceptionID}
	}
	out.Page = cursor.Cut(page, results, func(r HostResult) string { return r.RuleID })
	return out, nil
}

// readSnapshot runs fn in a read-only transaction that sees one snapshot of the database.
func (s *Service) readSnapshot(ctx context.Context, fn func(q *dbq.Queries) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", pg.Translate(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(dbq.New(tx)); err != nil {
		return pg.Translate(err)
	}
	return pg.Translate(tx.Commit(ctx))
}
