package liveness

import (
	"context"
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
}

func (o Options) withDefaults() Options {
	if o.Tick <= 0 {
		o.Tick = time.Second
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
	return o
}

// Deps are what the service is built from.
type Deps struct {
	Pool  *pgxpool.Pool
	Audit *audit.Writer
	// Jobs reports the background job processing for the status endpoint (nil reports no
	// worker seen and an empty queue).
	Jobs JobStatusFunc
	// Connector runs the login and privilege layers; nil probes only the banner.
	Connector Connector
	Logger    *slog.Logger
	Options   Options
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
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	jobs  JobStatusFunc
	conn  Connector
	log   *slog.Logger
	opts  Options
}

// NewService returns the liveness service.
func NewService(d Deps) *Service {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := d.Options.withDefaults()
	return &Service{pool: d.Pool, q: dbq.New(d.Pool), audit: d.Audit, jobs: d.Jobs, conn: d.Connector, log: log, opts: o}
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
// does, audited. Guarded by host:write. Errors: resource.not_found, host.busy (a probe
// of the host is in flight, here or in another process).
func (s *Service) Check(ctx context.Context, actor *authz.Principal, hostID uuid.UUID) (CheckResult, error) {
	if _, err := s.q.HostGet(ctx, hostID); err != nil {
		return CheckResult{}, pg.NotFoundAs(err, errHostNotFound())
	}
	cfg, err := LoadConfig(ctx, s.pool)
	if err != nil {
		return CheckResult{}, err
	}
	unlock, err := s.lockHost(ctx, hostID)
	if err != nil {
		return CheckResult{}, err
	}
	defer unlock()
	now := s.opts.Now()
	row, err := s.q.LivenessClaimHost(ctx, dbq.LivenessClaimHostParams{HostID: hostID, At: now, LeaseUntil: now.Add(s.lease(cfg))})
	if err != nil {
		return CheckResult{}, pg.NotFoundAs(err, errBusy(hostID))
	}
	cur := dbq.LivenessClaimDueRow(row)
	p := probe(ctx, s.conn, target{hostID: hostID, addr: targetAddr(cur.IpAddress, cur.Port)}, cfg.timeout(), s.opts.Now)
	if err := ctx.Err(); err != nil {
		s.release(ctx, hostID)
		return CheckResult{}, err
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
		return CheckResult{}, err
	}
	return CheckResult{Probe: p, State: res[0].state, Reachability: res[0].reachability}, nil
}

func errBusy(hostID uuid.UUID) error {
	return apperr.New(apperr.CodeHostBusy, "A connectivity probe of this host is already running; retry when it finishes.").
		WithDetail("host_id", hostID.String())
}

// lockHost takes the host's cluster-wide on-demand probe lock, held until the returned
// function runs; host.busy when another session holds it.
func (s *Service) lockHost(ctx context.Context, hostID uuid.UUID) (func(), error) {
	release, ok, err := pg.TryAdvisoryLock(ctx, s.pool, pg.AdvisoryKey("openwatch:liveness:check:"+hostID.String()))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBusy(hostID)
	}
	return release, nil
}

// release ends the lease of a probe that reports nothing.
func (s *Service) release(ctx context.Context, hostID uuid.UUID) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.q.LivenessRelease(rctx, hostID); err != nil {
		s.log.WarnContext(ctx, "release liveness lease", slog.String("host_id", hostID.String()), slog.Any("error", err))
	}
}

// maxHistoryLimit bounds a page of monitoring history.
const maxHistoryLimit = 500

// History returns a page of a host's state transitions, newest first, and the cursor of
// the next page (nil on the last). Guarded by host:read. Errors: resource.not_found,
// validation_failed (bad cursor).
func (s *Service) History(ctx context.Context, hostID uuid.UUID, limit *int, cur *string) ([]dbq.HostMonitoringHistory, *string, error) {
	var before int64
	ok, err := cursor.Decode(cur, &before)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.q.HostGet(ctx, hostID); err != nil {
		return nil, nil, pg.NotFoundAs(err, errHostNotFound())
	}
	n := cursor.DefaultLimit
	if limit != nil && *limit > 0 {
		n = min(*limit, maxHistoryLimit)
	}
	p := dbq.LivenessHistoryListParams{HostID: hostID, RowLimit: int32(n + 1)}
	if ok {
		p.Before = &before
	}
	rows, err := s.q.LivenessHistoryList(ctx, p)
	if err != nil {
		return nil, nil, pg.Translate(err)
	}
	rows, next := cursor.Trim(rows, n, func(r dbq.HostMonitoringHistory) any { return r.ID })
	return rows, next, nil
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
