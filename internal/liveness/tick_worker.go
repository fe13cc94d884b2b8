package liveness

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// Queue is the River queue the poller's ticks run on, apart from other jobs so a slow
// tick never holds them up.
const Queue = "liveness"

// TickArgs is the poller's periodic job. Slot cycles through Options.Slots values and
// the job is unique by its args among unfinished jobs, so at most Slots ticks exist at
// once: when ticks outlast Slots periods (many hosts timing out), further ticks are
// skipped rather than piled up.
type TickArgs struct {
	Slot int `json:"slot"`
}

// Kind names the job kind.
func (TickArgs) Kind() string { return "liveness_tick" }

// InsertOpts puts ticks on Queue, once each (the next tick comes anyway), unique per slot.
func (TickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled},
	}}
}

// tickTimeout bounds one tick: its probes take at most three layers of the longest
// timeout, plus recording.
const tickTimeout = 3*MaxTimeoutSec*time.Second + time.Minute

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	svc *Service
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[TickArgs]) error {
	_, err := w.svc.Tick(ctx)
	return err
}

func (w *tickWorker) Timeout(*river.Job[TickArgs]) time.Duration { return tickTimeout }

// RegisterJobs adds the tick worker to workers and returns the periodic job that
// enqueues a tick every Options.Tick (on the cluster's leader), none when polling is
// disabled. Its queue, Queue, must be worked with Slots() workers.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &tickWorker{svc: s})
	if s.opts.Disabled {
		return nil
	}
	next := 0
	var mu sync.Mutex
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.opts.Tick),
		func() (river.JobArgs, *river.InsertOpts) {
			mu.Lock()
			defer mu.Unlock()
			next = (next + 1) % s.opts.Slots
			return TickArgs{Slot: next}, nil
		}, &river.PeriodicJobOpts{ID: "liveness_tick", RunOnStart: true})}
}

// Slots is how many ticks may run at once: the number of workers Queue needs.
func (s *Service) Slots() int { return s.opts.Slots }

// TickStats says what one tick did.
type TickStats struct {
	// Probed is how many leased hosts were probed and recorded (hosts in maintenance are
	// only marked so, not counted).
	Probed int
}

// Tick runs one round of the poller: it gives new hosts a liveness row, leases up to
// rate_limit × Tick due hosts, marks those in maintenance and probes the others
// concurrently, recording results in batches as they come in.
func (s *Service) Tick(ctx context.Context) (TickStats, error) {
	cfg, err := LoadConfig(ctx, s.pool)
	if err != nil {
		return TickStats{}, err
	}
	budget := max(1, int(math.Ceil(float64(cfg.RateLimit)*s.opts.Tick.Seconds())))
	return s.tick(ctx, cfg, budget)
}

func (s *Service) tick(ctx context.Context, cfg Config, budget int) (TickStats, error) {
	now := s.opts.Now()
	var claimed []dbq.LivenessClaimDueRow
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		var err error
		claimed, err = q.LivenessClaimDue(ctx, dbq.LivenessClaimDueParams{At: now, Lim: int32(budget), LeaseUntil: now.Add(s.lease(cfg))})
		if err != nil {
			return pg.Translate(err)
		}
		return pg.Translate(q.LivenessCountersTick(ctx, now))
	})
	if err != nil {
		return TickStats{}, err
	}
	var marks []outcome
	var todo []dbq.LivenessClaimDueRow
	for _, c := range claimed {
		if c.InMaintenance || cfg.MaintenanceGlobal {
			marks = append(marks, outcome{cur: c, maintenance: true})
		} else {
			todo = append(todo, c)
		}
	}
	var markErr error
	if len(marks) > 0 {
		_, markErr = s.record(ctx, cfg, marks, nil)
	}
	probed, err := s.probeAll(ctx, cfg, todo)
	return TickStats{Probed: probed}, errors.Join(markErr, err)
}

// How probe results are batched: a batch is written when it holds flushSize results or
// flushEvery after the previous write, whichever comes first.
const (
	flushSize  = 250
	flushEvery = 200 * time.Millisecond
)

// probeAll probes the hosts, at most Options.MaxConcurrent at once, and records the
// results in batches. A probe cut short by ctx is not recorded (its lease runs out and the
// host is probed again). It returns how many results were recorded.
func (s *Service) probeAll(ctx context.Context, cfg Config, todo []dbq.LivenessClaimDueRow) (int, error) {
	if len(todo) == 0 {
		return 0, nil
	}
	out := make(chan outcome, len(todo))
	go func() {
		sem := make(chan struct{}, s.opts.MaxConcurrent)
		var wg sync.WaitGroup
		for _, c := range todo {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				p := probe(ctx, s.dialer, s.conn, target{hostID: c.HostID, addr: targetAddr(c.IpAddress, c.Port)}, cfg.timeout(), s.opts.Now)
				if ctx.Err() == nil {
					out <- outcome{cur: c, probe: p}
				}
			})
		}
		wg.Wait()
		close(out)
	}()
	var (
		buf      []outcome
		errs     []error
		recorded int
	)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if _, err := s.record(ctx, cfg, buf, nil); err != nil {
			s.log.ErrorContext(ctx, "record liveness probes", slog.Int("probes", len(buf)), slog.Any("error", err))
			errs = append(errs, err)
		} else {
			recorded += len(buf)
		}
		buf = nil
	}
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case o, ok := <-out:
			if !ok {
				flush()
				return recorded, errors.Join(errs...)
			}
			buf = append(buf, o)
			if len(buf) >= flushSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// Status is the poller's state for GET /system/connectivity/status.
type Status struct {
	Counters dbq.LivenessCountersGetRow
	// HostsDue are live hosts whose probe is due and not running.
	HostsDue int64
	// QueueDepth is how many background jobs are not finished yet (waiting, running or
	// waiting to be retried).
	QueueDepth int64
	// WorkerRunning says whether some process worked jobs within workerSeenWithin: a
	// poller tick (a job) ran, or River had a leader (elected among working processes).
	WorkerRunning     bool
	MaintenanceActive bool
}

// workerSeenWithin is how recent the last tick must be for a worker to count as running.
const workerSeenWithin = time.Minute

// Status returns the poller's counters and state. Guarded by system:read.
func (s *Service) Status(ctx context.Context) (Status, error) {
	cfg, err := LoadConfig(ctx, s.pool)
	if err != nil {
		return Status{}, err
	}
	now := s.opts.Now()
	c, err := s.q.LivenessCountersGet(ctx)
	if err != nil {
		return Status{}, pg.Translate(err)
	}
	due, err := s.q.LivenessHostsDue(ctx, now)
	if err != nil {
		return Status{}, pg.Translate(err)
	}
	var jobs JobStatus
	if s.jobs != nil {
		if jobs, err = s.jobs(ctx); err != nil {
			return Status{}, err
		}
	}
	running := c.LastTickAt != nil && now.Sub(*c.LastTickAt) < workerSeenWithin ||
		jobs.WorkerLastSeen != nil && now.Sub(*jobs.WorkerLastSeen) < workerSeenWithin
	return Status{Counters: c, HostsDue: due, QueueDepth: jobs.QueueDepth, MaintenanceActive: cfg.MaintenanceGlobal,
		WorkerRunning: running}, nil
}
