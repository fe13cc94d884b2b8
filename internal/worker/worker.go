package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Client is the River client of one process.
type Client = river.Client[pgx.Tx]

// softStopTimeout is how long Stop lets running jobs finish before it cancels them.
const softStopTimeout = 10 * time.Second

// hardStopTimeout bounds the wait for cancelled jobs to return after softStopTimeout.
const hardStopTimeout = 5 * time.Second

// Options configure NewClient.
type Options struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Work makes the client work jobs (Start runs producers, the leader's maintenance and
	// the periodic jobs); false builds an insert-only client.
	Work bool
	// Concurrency is how many jobs of the default queue run at once in this process.
	Concurrency int
	// RescueAfter is how long a job may stay running before the rescuer runs it again; a
	// job's context is cancelled after half of it (unless its worker sets Timeout).
	RescueAfter time.Duration
	// Now, when set, is the clock that stamps correlation ids of jobs inserted without one.
	Now func() time.Time
	// JobObserver, when set, is told the kind, run time and error of every job this
	// process works (metrics).
	JobObserver func(kind string, d time.Duration, err error)
}

// Registry collects what the domains contribute before the client starts: their workers,
// periodic jobs and any queue besides river.QueueDefault. Build it with NewRegistry.
type Registry struct {
	// Client inserts jobs; it is never nil once NewClient returned.
	Client *Client
	// Workers is the bundle domains add to with river.AddWorker.
	Workers *river.Workers
	// Periodic jobs are enqueued by the leader only (once per cluster).
	Periodic []*river.PeriodicJob
	// Queues are extra queues this process works, by name.
	Queues map[string]river.QueueConfig
	work   bool

	mu      sync.Mutex
	started bool
}

// NewRegistry returns an empty registry holding the built-in workers (Ping).
func NewRegistry() *Registry {
	r := &Registry{Workers: river.NewWorkers(), Queues: map[string]river.QueueConfig{}}
	river.AddWorker(r.Workers, &pingWorker{})
	addTestJobs(r.Workers)
	return r
}

// AddPeriodic registers periodic jobs; call it before Start.
func (r *Registry) AddPeriodic(jobs ...*river.PeriodicJob) {
	r.Periodic = append(r.Periodic, jobs...)
}

// AddQueue registers a queue worked with maxWorkers jobs at once; call it before Start.
func (r *Registry) AddQueue(name string, maxWorkers int) {
	r.Queues[name] = river.QueueConfig{MaxWorkers: maxWorkers}
}

// Working reports whether this process works jobs (as opposed to only inserting them).
func (r *Registry) Working() bool { return r.work }

// NewClient builds the process's River client over r.Workers and stores it in r.Client.
// Workers, periodic jobs and queues may still be added to r until Start.
func NewClient(o Options, r *Registry) (*Client, error) {
	if o.Pool == nil {
		return nil, errors.New("worker: no database pool")
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	cfg := &river.Config{
		Logger:       logger.With(slog.String("component", "river")),
		Workers:      r.Workers,
		Middleware:   []rivertype.Middleware{&correlationMiddleware{now: now}},
		ErrorHandler: &errorHandler{log: logger},
	}
	if o.JobObserver != nil {
		cfg.Middleware = append(cfg.Middleware, &timingMiddleware{observe: o.JobObserver})
	}
	if o.Work {
		if o.Concurrency < 1 {
			return nil, fmt.Errorf("worker: concurrency %d is below 1", o.Concurrency)
		}
		if o.RescueAfter < time.Second {
			return nil, fmt.Errorf("worker: rescue_after %s is below 1s", o.RescueAfter)
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Concurrency}}
		cfg.RescueStuckJobsAfter = o.RescueAfter
		cfg.JobTimeout = o.RescueAfter / 2
		// Completed jobs are only kept for inspection; the liveness tick alone completes one
		// a second, so an hour keeps river_job small. Discarded and cancelled jobs are kept
		// for the retention policy's jobs_days: the retention job deletes them
		// (DeleteFinalized), so River's cleaner leaves them alone (-1: kept).
		cfg.CompletedJobRetentionPeriod = CompletedJobRetention
		cfg.CancelledJobRetentionPeriod = -1
		cfg.DiscardedJobRetentionPeriod = -1
	}
	c, err := river.NewClient(riverpgxv5.New(o.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("worker: build river client: %w", err)
	}
	r.Client, r.work = c, o.Work
	return c, nil
}

// CompletedJobRetention is how long completed jobs stay in river_job.
const CompletedJobRetention = time.Hour

// Start hands r's extra queues and periodic jobs to the client and starts working jobs.
// It does nothing for an insert-only client or when the jobs already run; a registry whose
// Start failed cannot be started again (the process should exit). Start returns
// once the client runs; jobs then run until Stop (or until ctx ends, which River treats
// as a soft stop without a time limit: prefer Stop).
func (r *Registry) Start(ctx context.Context) error {
	if !r.work {
		return nil
	}
	if r.Client == nil {
		return errors.New("worker: Start before NewClient")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(r.Queues)) {
		if err := r.Client.Queues().Add(name, r.Queues[name]); err != nil {
			return fmt.Errorf("worker: add queue %s: %w", name, err)
		}
	}
	if len(r.Periodic) > 0 {
		if _, err := r.Client.PeriodicJobs().AddManySafely(r.Periodic); err != nil {
			return fmt.Errorf("worker: add periodic jobs: %w", err)
		}
	}
	if err := r.Client.Start(ctx); err != nil {
		return fmt.Errorf("worker: start river: %w", err)
	}
	r.started = true
	return nil
}

// Stop stops working jobs: running jobs get softStopTimeout to finish, then their contexts
// are cancelled and Stop waits up to hardStopTimeout more. It does nothing for an
// insert-only client or one never started.
func (r *Registry) Stop(ctx context.Context) error {
	if !r.work || r.Client == nil {
		return nil
	}
	soft, cancel := context.WithTimeout(context.WithoutCancel(ctx), softStopTimeout)
	defer cancel()
	err := r.Client.Stop(soft)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
	defer cancelHard()
	return r.Client.StopAndCancel(hard)
}
