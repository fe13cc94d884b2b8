package intel

import (
	"context"
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
// scheduler tick never queues a second system info or intelligence collection of a host
// that has one waiting or running.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// busySnooze is how long a job waits when the host's system info or intelligence
// collection is running elsewhere (an on-demand run).
const busySnooze = 30 * time.Second

// RegisterJobs adds the workers to the bundle and returns the periodic scheduler (run by
// the cluster's leader only).
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &systemInfoWorker{svc: s})
	river.AddWorker(workers, &collectWorker{svc: s})
	river.AddWorker(workers, &scheduleWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.schedulePeriod),
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "intel_schedule"})}
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

// EnqueueSystemInfo queues the system info collection of one host (nothing when one is
// already queued) and reports whether a job was added.
func (s *Service) EnqueueSystemInfo(ctx context.Context, hostID uuid.UUID) (bool, error) {
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, []uuid.UUID{hostID}, func(id uuid.UUID) river.JobArgs { return SystemInfoArgs{HostID: id} })
		return err
	})
	return n == 1, err
}

// EnqueueSystemInfoTx is EnqueueSystemInfo inside the caller's transaction (a host
// enrolled gets its first collection with its creation).
func (s *Service) EnqueueSystemInfoTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) (bool, error) {
	n, err := s.enqueue(ctx, tx, []uuid.UUID{hostID}, func(id uuid.UUID) river.JobArgs { return SystemInfoArgs{HostID: id} })
	return n == 1, err
}

// Sweep queues a system info collection of every live host out of maintenance, in the
// transaction of its audit event, and returns how many jobs were added (hosts with one
// already queued are not counted). Guarded by system:config:write.
func (s *Service) Sweep(ctx context.Context, actor *authz.Principal) (int, error) {
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ids, err := dbq.New(tx).IntelSweepHosts(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		for start := 0; start < len(ids); start += 1000 {
			k, err := s.enqueue(ctx, tx, ids[start:min(start+1000, len(ids))], func(id uuid.UUID) river.JobArgs { return SystemInfoArgs{HostID: id} })
			if err != nil {
				return err
			}
			n += k
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionDiscoverySweep, "settings", SystemInfoSettingsKey,
			map[string]any{"eligible_hosts": len(ids), "enqueued": n}))
	})
	return n, err
}
