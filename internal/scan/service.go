package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// Connector opens SSH connections to inventory hosts; *hostssh.Connector implements it.
type Connector interface {
	Connect(ctx context.Context, hostID uuid.UUID) (*hostssh.Conn, error)
}

// Enqueuer inserts background jobs; *river.Client[pgx.Tx] implements it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// manyInserter is the part of *river.Client[pgx.Tx] that inserts many jobs in one round
// trip; an Enqueuer without it gets one InsertTx per job.
type manyInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// enqueueScans inserts the job of each scan inside tx.
func (s *Service) enqueueScans(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	if m, ok := s.jobs.(manyInserter); ok {
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: Args{ScanID: id}}
		}
		if _, err := m.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("enqueue scans: %w", err)
		}
		return nil
	}
	for _, id := range ids {
		if _, err := s.jobs.InsertTx(ctx, tx, Args{ScanID: id}, nil); err != nil {
			return fmt.Errorf("enqueue scan: %w", err)
		}
	}
	return nil
}

// Service requests, runs and stores scans and serves their results.
type Service struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	aw   *audit.Writer
	cat  *Catalog
	ssh  Connector
	jobs Enqueuer
	log  *slog.Logger
	now  func() time.Time
	opts Options
	// fleet caches the fleet summaries until results change.
	fleet *fleetCache
}

// Options are optional settings of NewService.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// CheckTimeout bounds each record of a scan on the target (engine default when 0).
	CheckTimeout time.Duration
	// ProgressEvery is the least time between two progress updates of a running scan
	// (default 500 ms).
	ProgressEvery time.Duration
	// PerRule runs scans one session per rule (engine.Options.PerRule), to measure the
	// single-session program against; never in production.
	PerRule bool
	// SchedulePeriod is how often the scheduler queues due scans (default one minute).
	SchedulePeriod time.Duration
	// RetentionBatch is the most rows one retention statement deletes (default 5000).
	RetentionBatch int
	// AlertDefaults are the thresholds of score drops and failing scans while no one
	// stored others (alert.DefaultConfig when zero).
	AlertDefaults alert.Config
	// Finished, when set, is told how long each scan ran on its host, how many rules it
	// evaluated and whether it completed (once its results are stored) or failed on the
	// host (metrics).
	Finished func(d time.Duration, rules int, completed bool)
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, cat *Catalog, ssh Connector, jobs Enqueuer, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 500 * time.Millisecond
	}
	if o.SchedulePeriod <= 0 {
		o.SchedulePeriod = time.Minute
	}
	if o.RetentionBatch <= 0 {
		o.RetentionBatch = defaultRetentionBatch
	}
	if o.AlertDefaults == (alert.Config{}) {
		o.AlertDefaults = alert.DefaultConfig
	}
	return &Service{pool: pool, q: dbq.New(pool), aw: aw, cat: cat, ssh: ssh, jobs: jobs, log: o.Logger, now: o.Now, opts: o,
		fleet: newFleetCache()}
}

// Subscriber is what the notification listener feeds (channel ComplianceChannel).
func (s *Service) Subscriber() pg.Subscriber { return s.fleet }

// Catalog returns the rules and frameworks scans use.
func (s *Service) Catalog() *Catalog { return s.cat }

// RegisterJobs adds the scan worker and returns the periodic jobs: the scheduler and
// retention (schedule_worker.go) and the record of the fleet's totals (trend.go).
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &scanWorker{svc: s})
	return append(s.periodicJobs(workers), s.fleetSnapshotJob(workers))
}

// Request describes a scan to queue: a framework, or rule ids, or neither (every rule).
type Request struct {
	HostID    uuid.UUID
	Framework string
	RuleIDs   []string
}

func errScanInProgress(active dbq.Scan) error {
	return apperr.New(apperr.CodeScanInProgress, "A scan of this host is already queued or running.").
		WithDetail("scan_id", active.ID.String())
}

// Request queues a scan of one host: the scan row, its job and the audit event commit
// together. 409 scan.in_progress while the host has a scan queued or running.
func (s *Service) Request(ctx context.Context, req Request) (dbq.Scan, error) {
	if err := s.checkRules(req.Framework, req.RuleIDs); err != nil {
		return dbq.Scan{}, err
	}
	ok, err := s.q.ScanHostExists(ctx, req.HostID)
	if err != nil {
		return dbq.Scan{}, pg.Translate(err)
	}
	if !ok {
		return dbq.Scan{}, apperr.NotFound("The host does not exist.")
	}
	p := authz.PrincipalFrom(ctx)
	var row dbq.Scan
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		var err error
		row, err = q.ScanInsert(ctx, dbq.ScanInsertParams{
			ID: newID(), HostID: req.HostID, Trigger: "manual", Framework: nonEmpty(req.Framework), RuleIds: req.RuleIDs,
			RequestedBy: p.Actor().String(), CorrelationID: reqinfo.CorrelationID(ctx), CreatedAt: s.now(),
		})
		if err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, Args{ScanID: row.ID}, nil); err != nil {
			return fmt.Errorf("enqueue scan: %w", err)
		}
		detail := map[string]any{"host_id": req.HostID.String()}
		addRulesDetail(detail, req.Framework, req.RuleIDs)
		if err := s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanRequested, "scan", row.ID.String(), detail)); err != nil {
			return err
		}
		return s.publish(ctx, tx, row, "scan.queued", nil)
	})
	if pg.IsUniqueViolation(err, "scans_one_active_per_host") {
		active, aerr := s.q.ScanActiveForHost(ctx, req.HostID)
		if aerr != nil {
			return dbq.Scan{}, apperr.New(apperr.CodeScanInProgress, "A scan of this host is already queued or running.")
		}
		return dbq.Scan{}, errScanInProgress(active)
	}
	if err != nil {
		return dbq.Scan{}, pg.Translate(err)
	}
	return row, nil
}

// checkRules refuses what a scan may not ask to run: a framework and rule ids both, an
// unknown framework or rule id (400 naming the field).
func (s *Service) checkRules(framework string, ruleIDs []string) error {
	if framework != "" && len(ruleIDs) > 0 {
		return apperr.Invalid("rule_ids", "Give a framework or rule ids, not both.")
	}
	if _, err := s.cat.Select(framework, ruleIDs); err != nil {
		var unknown *UnknownError
		if errors.As(err, &unknown) {
			return apperr.Invalid(unknown.Field, fmt.Sprintf("Unknown %s %q.", fieldNoun(unknown.Field), unknown.Value))
		}
		return err
	}
	return nil
}

// addRulesDetail records in an audit detail what a scan was asked to check.
func addRulesDetail(detail map[string]any, framework string, ruleIDs []string) {
	if framework != "" {
		detail["framework"] = framework
	}
	if len(ruleIDs) > 0 {
		detail["rule_ids"] = ruleIDs
	}
}

func fieldNoun(field string) string {
	if field == "rule_ids" {
		return "rule id"
	}
	return field
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Get returns a scan.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbq.Scan, error) {
	row, err := s.q.ScanGet(ctx, id)
	if err != nil {
		return dbq.Scan{}, pg.NotFoundAs(err, apperr.NotFound("The scan does not exist."))
	}
	return row, nil
}

// Cancel cancels a queued scan at once, and asks a running one to stop: its worker stops
// and writes no results. 409 when the scan has already ended.
func (s *Service) Cancel(ctx context.Context, id uuid.UUID) (dbq.Scan, error) {
	p := authz.PrincipalFrom(ctx)
	var row dbq.Scan
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = dbq.New(tx).ScanRequestCancel(ctx, dbq.ScanRequestCancelParams{ID: id, Now: s.now()})
		if err != nil {
			return pg.NotFoundAs(err, errEnded)
		}
		if err := s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanCancelled, "scan", id.String(),
			map[string]any{"host_id": row.HostID.String(), "was": row.Status})); err != nil {
			return err
		}
		if row.Status == "cancelled" {
			return s.scanEnded(ctx, tx, row, nil)
		}
		return nil
	})
	if errors.Is(err, errEnded) {
		cur, gerr := s.Get(ctx, id)
		if gerr != nil {
			return dbq.Scan{}, gerr
		}
		return dbq.Scan{}, apperr.New(apperr.CodeConflict, "The scan has already ended.").WithDetail("status", cur.Status)
	}
	if err != nil {
		return dbq.Scan{}, pg.Translate(err)
	}
	return row, nil
}

// errEnded is what a conditional update of a scan finds when the scan has ended (or is
// gone): there is nothing to do.
var errEnded = errors.New("scan: the scan has ended")

// publish puts a scan event on the live stream (topic scans) in tx.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, row dbq.Scan, typ string, extra map[string]any) error {
	data := map[string]any{"scan_id": row.ID.String(), "host_id": row.HostID.String(), "status": row.Status,
		"records_done": row.RecordsDone, "records_total": row.RecordsTotal}
	for k, v := range extra {
		data[k] = v
	}
	hostID := row.HostID
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicScans, Type: typ, HostID: &hostID,
		Permission: "scan:read", Data: data})
	return err
}

// variables returns the installation's rule variable values.
func (s *Service) variables(ctx context.Context) (map[string]string, error) {
	rows, err := s.q.ScanVariables(ctx)
	if err != nil {
		return nil, pg.Translate(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Value
	}
	return out, nil
}

// engineOptions are the options of the engine for a scan.
func (s *Service) engineOptions(vars map[string]string, onRecord func(int, int)) engine.Options {
	return engine.Options{CheckTimeout: s.opts.CheckTimeout, Variables: vars, PerRule: s.opts.PerRule, OnRecord: onRecord}
}

// RescanTx queues, inside tx, a scan of some rules of a host after a change to it (trigger
// remediation) and returns its id; uuid.Nil, and no error, when the host has a scan queued
// or running already (that scan reads the changed host too) or is gone.
func (s *Service) RescanTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, ruleIDs []string, trigger string) (uuid.UUID, error) {
	q := dbq.New(tx)
	if _, err := q.ScanActiveForHost(ctx, hostID); err == nil {
		return uuid.Nil, nil
	} else if err := pg.IgnoreNotFound(err); err != nil {
		return uuid.Nil, err
	}
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, tx, func(tx pgx.Tx) error { // a savepoint: a lost race leaves tx usable
		row, err := dbq.New(tx).ScanInsert(ctx, dbq.ScanInsertParams{ID: newID(), HostID: hostID, Trigger: trigger,
			RuleIds: ruleIDs, CorrelationID: reqinfo.CorrelationID(ctx), CreatedAt: s.now()})
		if err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, Args{ScanID: row.ID}, nil); err != nil {
			return fmt.Errorf("enqueue scan: %w", err)
		}
		id = row.ID
		return s.publish(ctx, tx, row, "scan.queued", nil)
	})
	if pg.IsUniqueViolation(err, "scans_one_active_per_host") {
		return uuid.Nil, nil
	}
	return id, err
}
