package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// DefaultBatch is how many rows one delete statement removes at most.
const DefaultBatch = 5000

// MaxDays is the longest retention of any kind (ten years).
const MaxDays = 3650

// keptRuns is how many runs retention_runs keeps.
const keptRuns = 100

// DeleteFunc deletes, in tx, at most batch rows of one kind older than cutoff and
// returns how many it deleted; a short count ends the kind's run.
type DeleteFunc func(ctx context.Context, tx pgx.Tx, cutoff time.Time, batch int) (int64, error)

// Kind is one kind of data the policy keeps for a number of days.
type Kind struct {
	ID          string
	Description string
	Minimum     int
	Default     int
	days        func(dbq.RetentionPolicy) int32
}

// Kinds returns the kinds of data the policy covers, in the order a run handles them.
// The audit trail is not one of them: it is never deleted.
func Kinds() []Kind {
	return []Kind{
		{ID: "events", Description: "Activity feed items and host intelligence events.", Minimum: 7, Default: 90,
			days: func(p dbq.RetentionPolicy) int32 { return p.EventsDays }},
		{ID: "scan_evidence", Description: "Evidence of old scan results (the results stay; the evidence of every host's current results is never deleted).", Minimum: 1, Default: 30,
			days: func(p dbq.RetentionPolicy) int32 { return p.ScanEvidenceDays }},
		{ID: "monitoring", Description: "Liveness and connectivity history (each host keeps its newest check).", Minimum: 1, Default: 30,
			days: func(p dbq.RetentionPolicy) int32 { return p.MonitoringDays }},
		{ID: "jobs", Description: "Finished background jobs: completed, discarded and cancelled.", Minimum: 1, Default: 7,
			days: func(p dbq.RetentionPolicy) int32 { return p.JobsDays }},
		{ID: "change_jobs", Description: "Finished patch and remediation jobs, with their hosts and steps.", Minimum: 30, Default: 365,
			days: func(p dbq.RetentionPolicy) int32 { return p.ChangeJobsDays }},
		{ID: "reports", Description: "Generated reports and their signed files.", Minimum: 30, Default: 365,
			days: func(p dbq.RetentionPolicy) int32 { return p.ReportsDays }},
		{ID: "notification_deliveries", Description: "Finished notification deliveries.", Minimum: 7, Default: 90,
			days: func(p dbq.RetentionPolicy) int32 { return p.NotificationDeliveriesDays }},
	}
}

// Days returns the days p keeps k.
func (k Kind) Days(p dbq.RetentionPolicy) int { return int(k.days(p)) }

// Options tune the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Batch is how many rows one delete removes at most (DefaultBatch when 0).
	Batch int
	// Evidence deletes old scan evidence in batches of its own, auditing each
	// (scan.Service.DeleteEvidenceBefore); Jobs deletes finished River jobs
	// (worker.DeleteFinalized). A nil one leaves its kind alone.
	Evidence func(ctx context.Context, cutoff time.Time) (int64, error)
	Jobs     DeleteFunc
}

// Service reads and changes the policy and applies it.
type Service struct {
	pool     *pgxpool.Pool
	aw       *audit.Writer
	log      *slog.Logger
	now      func() time.Time
	batch    int
	evidence func(ctx context.Context, cutoff time.Time) (int64, error)
	deletes  map[string][]DeleteFunc
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, o Options) *Service {
	s := &Service{pool: pool, aw: aw, log: o.Logger, now: o.Now, batch: o.Batch, evidence: o.Evidence}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.batch <= 0 {
		s.batch = DefaultBatch
	}
	// Each kind is one or more tables, each emptied of its old rows batch by batch.
	s.deletes = map[string][]DeleteFunc{
		"events":                  {del((*dbq.Queries).RetentionDeleteFeedItems), del((*dbq.Queries).RetentionDeleteIntelligenceEvents)},
		"monitoring":              {del((*dbq.Queries).RetentionDeleteMonitoringHistory)},
		"change_jobs":             {del((*dbq.Queries).RetentionDeleteChangeJobs)},
		"reports":                 {del((*dbq.Queries).RetentionDeleteReports)},
		"notification_deliveries": {del((*dbq.Queries).RetentionDeleteNotificationDeliveries)},
	}
	if o.Jobs != nil {
		s.deletes["jobs"] = []DeleteFunc{o.Jobs}
	}
	return s
}

// batchParams is the shape of every generated retention delete's parameters.
type batchParams = struct {
	Cutoff    time.Time
	BatchSize int32
}

// del adapts a generated retention delete to a DeleteFunc.
func del[P ~batchParams](fn func(*dbq.Queries, context.Context, P) (int64, error)) DeleteFunc {
	return func(ctx context.Context, tx pgx.Tx, cutoff time.Time, batch int) (int64, error) {
		return fn(dbq.New(tx), ctx, P(batchParams{Cutoff: cutoff, BatchSize: int32(batch)}))
	}
}

// PolicyInput is a new policy: days per kind.
type PolicyInput struct {
	EventsDays, ScanEvidenceDays, MonitoringDays, JobsDays, ChangeJobsDays, ReportsDays, NotificationDeliveriesDays int
}

// Policy returns the policy in force.
func (s *Service) Policy(ctx context.Context) (dbq.RetentionPolicy, error) {
	p, err := dbq.New(s.pool).RetentionPolicyGet(ctx)
	return p, pg.Translate(err)
}

// Runs returns the last n runs of the retention job, newest first.
func (s *Service) Runs(ctx context.Context, n int) ([]dbq.RetentionRun, error) {
	runs, err := dbq.New(s.pool).RetentionRunList(ctx, int32(n))
	return runs, pg.Translate(err)
}

// UpdatePolicy replaces the policy (admin:retention_policy), audited with the values
// before and after. A value below its kind's minimum or above MaxDays is Invalid.
func (s *Service) UpdatePolicy(ctx context.Context, actor *authz.Principal, in PolicyInput) (dbq.RetentionPolicy, error) {
	next := dbq.RetentionPolicy{EventsDays: int32(in.EventsDays), ScanEvidenceDays: int32(in.ScanEvidenceDays),
		MonitoringDays: int32(in.MonitoringDays), JobsDays: int32(in.JobsDays), ChangeJobsDays: int32(in.ChangeJobsDays),
		ReportsDays: int32(in.ReportsDays), NotificationDeliveriesDays: int32(in.NotificationDeliveriesDays)}
	for _, k := range Kinds() {
		d := k.Days(next)
		if d < k.Minimum || d > MaxDays {
			return dbq.RetentionPolicy{}, apperr.Invalid(k.ID+"_days",
				fmt.Sprintf("%s must be kept between %d and %d days.", k.ID, k.Minimum, MaxDays))
		}
	}
	var out dbq.RetentionPolicy
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		before, err := q.RetentionPolicyGet(ctx)
		if err != nil {
			return err
		}
		out, err = q.RetentionPolicyUpdate(ctx, dbq.RetentionPolicyUpdateParams{EventsDays: next.EventsDays,
			ScanEvidenceDays: next.ScanEvidenceDays, MonitoringDays: next.MonitoringDays, JobsDays: next.JobsDays,
			ChangeJobsDays: next.ChangeJobsDays, ReportsDays: next.ReportsDays,
			NotificationDeliveriesDays: next.NotificationDeliveriesDays, UpdatedBy: actor.Actor().String()})
		if err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionRetentionPolicyChanged, "system", "retention_policy",
			map[string]any{"before": daysOf(before), "after": daysOf(out)}))
	})
	return out, pg.Translate(err)
}

// daysOf returns the days per kind of p, keyed by kind.
func daysOf(p dbq.RetentionPolicy) map[string]int {
	out := map[string]int{}
	for _, k := range Kinds() {
		out[k.ID] = k.Days(p)
	}
	return out
}

// Apply runs the policy once: for each kind, deletes its rows past the kind's days, one
// batch per transaction, each batch audited (system.retention_applied) in its own
// transaction; and records the run with the rows deleted per kind. A failing kind is
// recorded and ends the run (the next run carries on). The periodic job retention_apply
// calls it.
func (s *Service) Apply(ctx context.Context) (dbq.RetentionRun, error) {
	q := dbq.New(s.pool)
	start := s.now()
	run, err := q.RetentionRunInsert(ctx, dbq.RetentionRunInsertParams{ID: uuid.Must(uuid.NewV7()), StartedAt: start})
	if err != nil {
		return dbq.RetentionRun{}, pg.Translate(err)
	}
	policy, err := q.RetentionPolicyGet(ctx)
	deleted := map[string]int64{}
	if err == nil {
		err = s.apply(ctx, policy, start, deleted)
	}
	status, msg := "completed", (*string)(nil)
	if err != nil {
		status = "failed"
		m := err.Error()
		msg = &m
	}
	raw, jerr := json.Marshal(deleted)
	if jerr != nil {
		return run, jerr
	}
	end := s.now()
	run, ferr := dbq.New(s.pool).RetentionRunFinish(context.WithoutCancel(ctx), dbq.RetentionRunFinishParams{ID: run.ID,
		FinishedAt: &end, Status: status, Deleted: raw, Error: msg})
	if ferr != nil {
		return run, pg.Translate(ferr)
	}
	if _, perr := q.RetentionRunPrune(ctx, keptRuns); perr != nil {
		s.log.WarnContext(ctx, "prune retention runs", slog.Any("error", perr))
	}
	return run, pg.Translate(err)
}

func (s *Service) apply(ctx context.Context, policy dbq.RetentionPolicy, now time.Time, deleted map[string]int64) error {
	for _, k := range Kinds() {
		cutoff := now.AddDate(0, 0, -k.Days(policy))
		if k.ID == "scan_evidence" {
			if s.evidence == nil {
				continue
			}
			n, err := s.evidence(ctx, cutoff)
			deleted[k.ID] += n
			if err != nil {
				return fmt.Errorf("delete %s: %w", k.ID, err)
			}
			continue
		}
		for _, fn := range s.deletes[k.ID] {
			for {
				var n int64
				err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
					var err error
					if n, err = fn(ctx, tx, cutoff, s.batch); err != nil || n == 0 {
						return err
					}
					return s.aw.Append(ctx, tx, audit.For(ctx, &authz.Principal{}, audit.ActionRetentionApplied, "system",
						"retention_policy", map[string]any{"kind": k.ID, "deleted": n, "older_than": cutoff}))
				})
				if err != nil {
					return fmt.Errorf("delete %s: %w", k.ID, err)
				}
				deleted[k.ID] += n
				if n < int64(s.batch) {
					break
				}
			}
		}
	}
	return nil
}
