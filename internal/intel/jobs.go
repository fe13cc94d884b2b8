package intel

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/pg"
)

// uniqueWhileQueued makes a host's job unique until it has finished: a sweep or a
// scheduler tick never queues a second discovery or collection of a host that has one
// waiting or running.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// busySnooze is how long a job waits when the host's discovery or collection is running
// elsewhere (an on-demand run).
const busySnooze = 30 * time.Second

// DiscoverArgs is the job discovering one host.
type DiscoverArgs struct {
	HostID uuid.UUID `json:"host_id"`
}

// Kind names the job kind.
func (DiscoverArgs) Kind() string { return "intel_discover" }

// InsertOpts retries a few times and keeps one job per host queued.
func (DiscoverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

// CollectArgs is the job collecting one host's intelligence.
type CollectArgs struct {
	HostID uuid.UUID `json:"host_id"`
}

// Kind names the job kind.
func (CollectArgs) Kind() string { return "intel_collect" }

// InsertOpts retries a few times and keeps one job per host queued.
func (CollectArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

// ScheduleArgs is the periodic job that enqueues due discoveries and collections.
type ScheduleArgs struct{}

// Kind names the job kind.
func (ScheduleArgs) Kind() string { return "intel_schedule" }

// InsertOpts: a missed tick is made up by the next one.
func (ScheduleArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// RegisterJobs adds the workers to the bundle and returns the periodic scheduler (run by
// the cluster's leader only).
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &discoverWorker{s: s})
	river.AddWorker(workers, &collectWorker{s: s})
	river.AddWorker(workers, &scheduleWorker{s: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.schedulePeriod),
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "intel_schedule"})}
}

type discoverWorker struct {
	river.WorkerDefaults[DiscoverArgs]
	s *Service
}

func (w *discoverWorker) Work(ctx context.Context, job *river.Job[DiscoverArgs]) error {
	_, err := w.s.Discover(ctx, nil, job.Args.HostID)
	return jobResult(err)
}

type collectWorker struct {
	river.WorkerDefaults[CollectArgs]
	s *Service
}

func (w *collectWorker) Work(ctx context.Context, job *river.Job[CollectArgs]) error {
	_, err := w.s.Collect(ctx, nil, job.Args.HostID)
	return jobResult(err)
}

// jobResult maps a run's error to River: a deleted host ends the job, a busy host snoozes
// it, a host that cannot work without an operator (no credential, changed host key)
// cancels it; anything else is retried with back-off.
func jobResult(err error) error {
	switch {
	case err == nil, apperr.Is(err, apperr.CodeNotFound):
		return nil
	case apperr.Is(err, apperr.CodeHostBusy):
		return river.JobSnooze(busySnooze)
	case apperr.Is(err, apperr.CodeHostKeyMismatch):
		return river.JobCancel(err)
	case apperr.Is(err, apperr.CodeHostUnreachable) && apperr.As(err).Detail["error_type"] == hostssh.ErrorTypeNoCredential:
		return river.JobCancel(err)
	}
	return err
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	s *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	return w.s.scheduleTick(ctx)
}

// firstContactRetry is how long a host that liveness found reachable but whose discovery
// failed waits before discovery on first contact tries it again.
const firstContactRetry = 10 * time.Minute

// perTick scales a per-minute rate limit to one scheduler period (at least one).
func (s *Service) perTick(perMinute int) int32 {
	n := int32(float64(perMinute) * s.schedulePeriod.Minutes())
	return max(n, 1)
}

// scheduleTick enqueues the hosts whose collection or discovery is due, at most the
// configured rate per minute each, unless paused by maintenance_global.
func (s *Service) scheduleTick(ctx context.Context) error {
	now := s.now()
	ic, err := LoadIntelligenceConfig(ctx, s.pool)
	if err != nil {
		return err
	}
	dc, err := LoadDiscoveryConfig(ctx, s.pool)
	if err != nil {
		return err
	}
	var collect, discover []uuid.UUID
	if !ic.MaintenanceGlobal {
		collect, err = s.q.IntelDueForCollection(ctx, dbq.IntelDueForCollectionParams{
			Cutoff: now.Add(-time.Duration(ic.IntervalSec) * time.Second), RowLimit: s.perTick(ic.RateLimit)})
		if err != nil {
			return pg.Translate(err)
		}
	}
	if !dc.MaintenanceGlobal {
		discover, err = s.q.IntelDueForDiscovery(ctx, dbq.IntelDueForDiscoveryParams{
			Cutoff: now.Add(-time.Duration(dc.IntervalSec) * time.Second), FirstContact: dc.DetectOnFirstContact,
			RetryCutoff: now.Add(-firstContactRetry), RowLimit: s.perTick(dc.RateLimit)})
		if err != nil {
			return pg.Translate(err)
		}
	}
	if len(collect)+len(discover) == 0 {
		return nil
	}
	var nd, nc int
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		var err error
		if nd, err = s.enqueue(ctx, tx, discover, func(id uuid.UUID) river.JobArgs { return DiscoverArgs{HostID: id} }); err != nil {
			return err
		}
		if nc, err = s.enqueue(ctx, tx, collect, func(id uuid.UUID) river.JobArgs { return CollectArgs{HostID: id} }); err != nil {
			return err
		}
		// The queued hosts are not due again before their interval, whatever their jobs do.
		if err := q.IntelScheduleMarkDiscovery(ctx, dbq.IntelScheduleMarkDiscoveryParams{HostIds: discover, At: now}); err != nil {
			return pg.Translate(err)
		}
		return pg.Translate(q.IntelScheduleMarkIntel(ctx, dbq.IntelScheduleMarkIntelParams{HostIds: collect, At: now}))
	})
	if err != nil {
		return err
	}
	s.log.DebugContext(ctx, "intel scheduler tick", slog.Int("discoveries", nd), slog.Int("collections", nc))
	return nil
}

// enqueue inserts one job per host inside tx and returns how many were new (not already
// queued).
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, args func(uuid.UUID) river.JobArgs) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: args(id)}
	}
	res, err := s.jobs.InsertManyTx(ctx, tx, params)
	if err != nil {
		return 0, fmt.Errorf("intel: enqueue jobs: %w", err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

// EnqueueDiscovery queues the discovery of one host (nothing when one is already queued)
// and reports whether a job was added.
func (s *Service) EnqueueDiscovery(ctx context.Context, hostID uuid.UUID) (bool, error) {
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, []uuid.UUID{hostID}, func(id uuid.UUID) river.JobArgs { return DiscoverArgs{HostID: id} })
		return err
	})
	return n == 1, err
}

// Sweep queues a discovery of every live host out of maintenance, in the transaction of its
// audit event, and returns how many jobs were added (hosts with a discovery already queued
// are not counted). Guarded by system:config:write.
func (s *Service) Sweep(ctx context.Context, actor *authz.Principal) (int, error) {
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ids, err := dbq.New(tx).IntelSweepHosts(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		for start := 0; start < len(ids); start += 1000 {
			k, err := s.enqueue(ctx, tx, ids[start:min(start+1000, len(ids))], func(id uuid.UUID) river.JobArgs { return DiscoverArgs{HostID: id} })
			if err != nil {
				return err
			}
			n += k
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionDiscoverySweep, "settings", DiscoverySettingsKey,
			map[string]any{"eligible_hosts": len(ids), "enqueued": n}))
	})
	return n, err
}
