package intel

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// ScheduleArgs is the periodic job that enqueues due system info and intelligence
// collections.
type ScheduleArgs struct{}

// Kind names the job kind.
func (ScheduleArgs) Kind() string { return "intel_schedule" }

// InsertOpts: a missed tick is made up by the next one.
func (ScheduleArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	svc *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	return w.svc.scheduleTick(ctx)
}

// firstContactRetry is how long a host that liveness found reachable but whose system info
// collection failed waits before collection on first contact tries it again.
const firstContactRetry = 10 * time.Minute

// perTick scales a per-minute rate limit to one scheduler period (at least one).
func (s *Service) perTick(perMinute int) int32 {
	n := int32(float64(perMinute) * s.schedulePeriod.Minutes())
	return max(n, 1)
}

// scheduleTick enqueues the hosts whose intelligence or system info collection is due, at
// most the configured rate per minute each, unless paused by maintenance_global.
func (s *Service) scheduleTick(ctx context.Context) error {
	now := s.now()
	ic, err := LoadIntelligenceConfig(ctx, s.pool)
	if err != nil {
		return err
	}
	dc, err := LoadSystemInfoConfig(ctx, s.pool)
	if err != nil {
		return err
	}
	var collect, sysinfo []uuid.UUID
	if !ic.MaintenanceGlobal {
		collect, err = s.q.IntelDueForCollection(ctx, dbq.IntelDueForCollectionParams{
			Cutoff: now.Add(-time.Duration(ic.IntervalSec) * time.Second), RowLimit: s.perTick(ic.RateLimit)})
		if err != nil {
			return pg.Translate(err)
		}
	}
	if !dc.MaintenanceGlobal {
		sysinfo, err = s.q.IntelDueForSystemInfo(ctx, dbq.IntelDueForSystemInfoParams{
			Cutoff: now.Add(-time.Duration(dc.IntervalSec) * time.Second), FirstContact: dc.DetectOnFirstContact,
			RetryCutoff: now.Add(-firstContactRetry), RowLimit: s.perTick(dc.RateLimit)})
		if err != nil {
			return pg.Translate(err)
		}
	}
	if len(collect)+len(sysinfo) == 0 {
		return nil
	}
	var nd, nc int
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		var err error
		if nd, err = s.enqueue(ctx, tx, sysinfo, func(id uuid.UUID) river.JobArgs { return SystemInfoArgs{HostID: id} }); err != nil {
			return err
		}
		if nc, err = s.enqueue(ctx, tx, collect, func(id uuid.UUID) river.JobArgs { return CollectArgs{HostID: id} }); err != nil {
			return err
		}
		// The queued hosts are not due again before their interval, whatever their jobs do.
		if err := q.IntelScheduleMarkSystemInfo(ctx, dbq.IntelScheduleMarkSystemInfoParams{HostIds: sysinfo, At: now}); err != nil {
			return pg.Translate(err)
		}
		return pg.Translate(q.IntelScheduleMarkIntel(ctx, dbq.IntelScheduleMarkIntelParams{HostIds: collect, At: now}))
	})
	if err != nil {
		return err
	}
	s.log.DebugContext(ctx, "intel scheduler tick", slog.Int("system_info", nd), slog.Int("collections", nc))
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
