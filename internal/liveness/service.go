package liveness

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/settings"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Options tune the poller. The zero value is production's: a tick a second and the *_sec
// settings in seconds. Tests shorten both (IntervalUnit scales every *_sec interval, so a
// test can run the real poller with hosts due every few hundred milliseconds although the
// API accepts no interval under 60).
type Options struct {
	// Tick is how often the poller runs (default 1s); each tick leases at most
	// rate_limit × Tick.Seconds() hosts (at least one).
	Tick time.Duration
	// IntervalUnit is the length of one unit of the *_sec intervals (default 1s).
	IntervalUnit time.Duration
	// Slots is how many ticks may run at once (default 8): a tick waits for its slowest
	// probe, so overlapping ticks keep the rate up while unreachable hosts time out.
	Slots int
	// MaxConcurrent bounds the probes one tick runs at once (default 512).
	MaxConcurrent int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Disabled leaves polling off (worker.liveness_tick = 0): no periodic tick is
	// registered; on-demand checks still work.
	Disabled bool
	// CheckWait is how long an on-demand check waits for a probe of the same host already
	// in flight (the poller's, or another check's) to end before answering host.busy
	// (default 10s). The check then probes the host itself.
	CheckWait time.Duration
	// Dialer opens the banner probes' connections and refuses addresses outside its
	// allowed networks (the connector has its own); default: loopback only.
	Dialer *sshx.Dialer
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.CheckWait <= 0 {
		o.CheckWait = 10 * time.Second
	}
	if o.IntervalUnit <= 0 {
		o.IntervalUnit = time.Second
	}
	if o.Slots <= 0 {
		o.Slots = 8
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 512
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dialer == nil {
		o.Dialer = sshx.Loopback()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// JobStatus is what the status endpoint reports of background job processing.
type JobStatus struct {
	// WorkerLastSeen is when a process working jobs last showed it was alive; nil when
	// none ever did.
	WorkerLastSeen *time.Time
	// QueueDepth counts jobs not finished yet: waiting, running or to be retried.
	QueueDepth int64
}

// JobStatusFunc reads the job processing status (the app builds it on internal/worker,
// which domain packages do not import).
type JobStatusFunc func(ctx context.Context) (JobStatus, error)

// Service probes hosts, keeps their liveness and serves it.
type Service struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	audit  *audit.Writer
	jobs   JobStatusFunc
	conn   Connector
	dialer *sshx.Dialer
	log    *slog.Logger
	opts   Options
}

// NewService returns the liveness service: conn runs the login and privilege layers (nil
// probes only the banner); jobs reports the background job processing for the status
// endpoint (nil reports no worker seen and an empty queue).
func NewService(pool *pgxpool.Pool, aw *audit.Writer, conn Connector, jobs JobStatusFunc, opts Options) *Service {
	o := opts.withDefaults()
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, jobs: jobs, conn: conn, dialer: o.Dialer, log: o.Logger, opts: o}
}

func errHostNotFound() error { return apperr.NotFound("The host does not exist.") }

// leaseMargin is added to the longest a probe may take to get its lease.
const leaseMargin = 15 * time.Second

// lease is how long a probe may run before its host is probed again by someone else.
func (s *Service) lease(cfg Config) time.Duration {
	layers := 1
	if s.conn != nil {
		layers = 3
	}
	return time.Duration(layers)*cfg.timeout() + leaseMargin
}

// nextProbe returns when a host in state is due again: its interval, ±10%.
func (s *Service) nextProbe(cfg Config, state string, now time.Time) time.Time {
	d := time.Duration(cfg.intervalSec(state)) * s.opts.IntervalUnit
	return now.Add(time.Duration(float64(d) * (0.9 + 0.2*rand.Float64())))
}

// Config returns the polling configuration. Guarded by system:read.
func (s *Service) Config(ctx context.Context) (Config, error) {
	return LoadConfig(ctx, s.pool)
}

// SetConfig validates and stores the polling configuration, audited with its before and
// after values. Shortened intervals take effect at once (hosts scheduled later than the
// new interval are rescheduled within it) and a change of maintenance_global makes the
// hosts it concerns due now. Guarded by system:write. Errors: validation_failed.
func (s *Service) SetConfig(ctx context.Context, actor *authz.Principal, c Config) (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := LoadConfig(ctx, tx)
		if err != nil {
			return err
		}
		if err := settings.Save(ctx, tx, SettingsKey, c, actor); err != nil {
			return err
		}
		if err := s.reschedule(ctx, dbq.New(tx), before, c); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionConnectivityConfigChanged, "settings", SettingsKey,
			map[string]any{"before": before, "after": c}))
	})
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

// reschedule applies a configuration change to the schedule.
func (s *Service) reschedule(ctx context.Context, q *dbq.Queries, before, after Config) error {
	now := s.opts.Now()
	if before.MaintenanceGlobal != after.MaintenanceGlobal {
		err := q.LivenessDueMaintenanceChange(ctx, dbq.LivenessDueMaintenanceChangeParams{At: now, Entering: after.MaintenanceGlobal})
		if err != nil {
			return pg.Translate(err)
		}
	}
	for _, state := range []string{StateOnline, StateDegraded, StateCritical, StateDown, StateMaintenance} {
		sec := after.intervalSec(state)
		if sec >= before.intervalSec(state) {
			continue
		}
		d := time.Duration(sec) * s.opts.IntervalUnit
		err := q.LivenessScheduleClamp(ctx, dbq.LivenessScheduleClampParams{
			MonitoringState: state, Earliest: now, Latest: now.Add(d), SpreadSec: d.Seconds(),
		})
		if err != nil {
			return pg.Translate(err)
		}
	}
	return nil
}

// CheckResult is the outcome of an on-demand check.
type CheckResult struct {
	Probe        *Probe
	State        string
	Reachability string
}

// Check probes a host now through every layer and records the result like the poller
// does, audited. A probe of the host already in flight, here or in another process, is
// waited for (Options.CheckWait), so a check asked for while the poller probes a new host
// answers after it instead of refusing. Guarded by host:write. Errors: resource.not_found,
// host.busy (a probe of the host still in flight after the wait), service.unavailable (retryable;
// detail.layer and detail.step name where it stopped: the database did not answer in
// time, or the request ended).
//
// Only the host's lease (probe_lease_until, the one the poller honours too) keeps a
// second probe away: the check holds no database connection while it probes, so however
// many checks and jobs run at once, each needs one pooled connection at a time.
func (s *Service) Check(ctx context.Context, actor *authz.Principal, hostID uuid.UUID) (CheckResult, error) {
	cur, cfg, err := s.claimWaiting(ctx, hostID)
	if err != nil {
		return CheckResult{}, stopped("database", "claiming the host", err)
	}
	p := probe(ctx, s.dialer, s.conn, target{hostID: hostID, addr: targetAddr(cur.IpAddress, cur.Port)}, cfg.timeout(), s.opts.Now)
	if err := ctx.Err(); err != nil {
		s.release(ctx, hostID)
		return CheckResult{}, stopped("probe", "probing the host", err)
	}
	out := []outcome{{cur: cur, probe: p, maintenance: cur.InMaintenance || cfg.MaintenanceGlobal}}
	res, err := s.record(ctx, cfg, out, func(tx pgx.Tx, res []verdict) error {
		detail := map[string]any{"reachable": p.PingOK, "monitoring_state": res[0].state, "response_time_ms": p.ResponseMS}
		if p.ErrorType != "" {
			detail["error_type"], detail["failed_layer"] = p.ErrorType, p.FailedLayer
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostConnectivityChecked, "host", hostID.String(), detail))
	})
	if err != nil {
		s.release(ctx, hostID)
		return CheckResult{}, stopped("database", "recording the result", err)
	}
	return CheckResult{Probe: p, State: res[0].state, Reachability: res[0].reachability}, nil
}

// claimWaiting claims hostID for an on-demand probe, waiting up to Options.CheckWait for a
// probe of it in flight to end (asking again every checkRetry). Errors: as claim's, and
// host.busy once the wait is over.
func (s *Service) claimWaiting(ctx context.Context, hostID uuid.UUID) (dbq.LivenessClaimDueRow, Config, error) {
	deadline := time.Now().Add(s.opts.CheckWait)
	for {
		cctx, cancel := context.WithTimeout(ctx, claimTimeout)
		cur, cfg, err := s.claim(cctx, hostID)
		cancel()
		if !apperr.Is(err, apperr.CodeHostBusy) || time.Now().Add(checkRetry).After(deadline) {
			return cur, cfg, err
		}
		select {
		case <-ctx.Done():
			return cur, cfg, ctx.Err()
		case <-time.After(checkRetry):
		}
	}
}

// checkRetry is how often a waiting check asks again for the host.
const checkRetry = 100 * time.Millisecond

// claimTimeout bounds the database work before an on-demand probe, so a busy database
// answers a retryable error instead of keeping the request waiting.
const claimTimeout = 15 * time.Second

// claim leases hostID for an on-demand probe and returns its liveness row and the
// polling configuration. Errors: resource.not_found, host.busy.
func (s *Service) claim(ctx context.Context, hostID uuid.UUID) (dbq.LivenessClaimDueRow, Config, error) {
	if _, err := s.q.HostGet(ctx, hostID); err != nil {
		return dbq.LivenessClaimDueRow{}, Config{}, pg.NotFoundAs(err, errHostNotFound())
	}
	cfg, err := LoadConfig(ctx, s.pool)
	if err != nil {
		return dbq.LivenessClaimDueRow{}, Config{}, err
	}
	now := s.opts.Now()
	row, err := s.q.LivenessClaimHost(ctx, dbq.LivenessClaimHostParams{HostID: hostID, At: now, LeaseUntil: now.Add(s.lease(cfg))})
	if err != nil {
		return dbq.LivenessClaimDueRow{}, Config{}, pg.NotFoundAs(err, errBusy(hostID))
	}
	return dbq.LivenessClaimDueRow(row), cfg, nil
}

func errBusy(hostID uuid.UUID) error {
	return apperr.New(apperr.CodeHostBusy, "A connectivity probe of this host is already running; retry when it finishes.").
		WithDetail("host_id", hostID.String())
}

// stopped turns a context that ended during a step of a check (a deadline while waiting
// for the database, or the request gone) into service.unavailable naming the layer that
// was slow and the step, so the caller sees a retryable error and never internal.error.
// Other errors are returned unchanged.
func stopped(layer, step string, err error) error {
	var why string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		why = ": the " + layer + " did not answer in time"
	case errors.Is(err, context.Canceled):
		why = ": the request was cancelled"
	default:
		return err
	}
	return &apperr.Error{Code: apperr.CodeUnavailable, Err: err,
		Message: "The connectivity check stopped while " + step + why + ". Retry shortly.",
		Detail:  map[string]any{"layer": layer, "step": step}}
}

// release ends the lease of a probe that reports nothing.
func (s *Service) release(ctx context.Context, hostID uuid.UUID) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.q.LivenessRelease(rctx, hostID); err != nil {
		s.log.WarnContext(ctx, "release liveness lease", slog.String("host_id", hostID.String()), slog.Any("error", err))
	}
}

// History returns a page of a host's state transitions, newest first. Guarded by
// host:read. Errors: resource.not_found.
func (s *Service) History(ctx context.Context, hostID uuid.UUID, page cursor.Request[int64]) (cursor.Page[dbq.HostMonitoringHistory], error) {
	var none cursor.Page[dbq.HostMonitoringHistory]
	if _, err := s.q.HostGet(ctx, hostID); err != nil {
		return none, pg.NotFoundAs(err, errHostNotFound())
	}
	rows, err := s.q.LivenessHistoryList(ctx, dbq.LivenessHistoryListParams{HostID: hostID, Before: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return none, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.HostMonitoringHistory) int64 { return r.ID }), nil
}

// FleetReachability counts live hosts by reachability. Guarded by system:read.
func (s *Service) FleetReachability(ctx context.Context) (dbq.LivenessFleetReachabilityRow, error) {
	r, err := s.q.LivenessFleetReachability(ctx)
	return r, pg.Translate(err)
}

// FleetStates counts live hosts by monitoring state. Guarded by system:read.
func (s *Service) FleetStates(ctx context.Context) (dbq.LivenessFleetStatesRow, error) {
	r, err := s.q.LivenessFleetStates(ctx)
	return r, pg.Translate(err)
}
