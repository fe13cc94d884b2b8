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
	"github.com/riverqueue/river/riverdriver"
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
// disabled. Its queue, Queue, must be
// worked with Slots() workers.
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
	// Claimed hosts were due and leased; Probed of them were probed and recorded, Marked
	// were in maintenance and only marked so.
	Claimed, Probed, Marked int
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
		if _, err := q.LivenessInsertMissing(ctx, now); err != nil {
			return pg.Translate(err)
		}
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
	st := TickStats{Claimed: len(claimed)}
	var marks []outcome
	var todo []dbq.LivenessClaimDueRow
	for _, c := range claimed {
		if c.InMaintenance || cfg.MaintenanceGlobal {
			marks = append(marks, outcome{cur: c, maintenance: true})
		} else {
			todo = append(todo, c)
		}
	}
	var errs []error
	if len(marks) > 0 {
		if _, err := s.record(ctx, cfg, marks, nil); err != nil {
			errs = append(errs, err)
		} else {
			st.Marked = len(marks)
		}
	}
	probed, err := s.probeAll(ctx, cfg, todo)
	st.Probed = probed
	return st, errors.Join(append(errs, err)...)
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
				p := probe(ctx, s.conn, target{hostID: c.HostID, addr: targetAddr(c.IpAddress, c.Port)}, cfg.timeout(), s.opts.Now)
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
	// QueueDepth is how many background jobs wait (available, pending, scheduled) or
	// wait to retry.
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
	depth, err := s.queueDepth(ctx)
	if err != nil {
		return Status{}, err
	}
	running := c.LastTickAt != nil && now.Sub(*c.LastTickAt) < workerSeenWithin
	if !running {
		if running, err = s.leaderSeen(ctx, now); err != nil {
			return Status{}, err
		}
	}
	return Status{Counters: c, HostsDue: due, QueueDepth: depth, MaintenanceActive: cfg.MaintenanceGlobal,
		WorkerRunning: running}, nil
}

// leaderSeen reports whether River had a leader within workerSeenWithin: only processes
// that work jobs take part in the election, and the leader renews its term every few
// seconds.
func (s *Service) leaderSeen(ctx context.Context, now time.Time) (bool, error) {
	if s.jobs == nil {
		return false, nil
	}
	l, err := s.jobs.Driver().GetExecutor().LeaderGetElectedLeader(ctx, &riverdriver.LeaderGetElectedLeaderParams{})
	if errors.Is(err, rivertype.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, pg.Translate(err)
	}
	return l.ExpiresAt.After(now.Add(-workerSeenWithin)), nil
}

// queueDepth counts River jobs waiting to run or to be retried.
func (s *Service) queueDepth(ctx context.Context) (int64, error) {
	if s.jobs == nil {
		return 0, nil
	}
	exec := s.jobs.Driver().GetExecutor()
	var n int64
	for _, st := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable} {
		c, err := exec.JobCountByState(ctx, &riverdriver.JobCountByStateParams{State: st})
		if err != nil {
			return 0, pg.Translate(err)
		}
		n += int64(c)
	}
	return n, nil
}
