package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/liveness"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/pg/cluster"
	"github.com/openwatch/openwatch/internal/worker"
)

// newJobs builds the job registry and the process's River client from [worker]: a client
// that works jobs when worker.with_worker is set (serve's default; RunWorker sets it), an
// insert-only one otherwise. It runs before the domain services are built so the client
// they get is never nil; they add their workers and periodic jobs to the registry.
func newJobs(d Deps) (*worker.Registry, error) {
	reg := worker.NewRegistry()
	w := d.Config.Worker
	_, err := worker.NewClient(worker.Options{
		Pool: d.Pool, Logger: d.Logger, Work: w.WithWorker,
		Concurrency: w.Concurrency, RescueAfter: w.RescueAfter.Duration, Now: d.NowFunc,
		JobObserver: d.Metrics.JobWorked,
	}, reg)
	if err != nil {
		return nil, err
	}
	return reg, nil
}

// StartJobs starts working background jobs when this process works them; it does nothing
// for an insert-only process or when they already run. RunBackground calls it too (and
// only logs a failure); Serve and RunWorker call it first so a failure stops them.
func (a *App) StartJobs(ctx context.Context) error {
	return a.JobRegistry.Start(context.WithoutCancel(ctx))
}

// runJobs starts the jobs and adds to wg a goroutine that stops them (letting running
// jobs finish for a while) once ctx ends.
func (a *App) runJobs(ctx context.Context, wg *sync.WaitGroup) {
	if !a.JobRegistry.Working() {
		return
	}
	if err := a.StartJobs(ctx); err != nil {
		a.Logger.ErrorContext(ctx, "background jobs did not start", slog.Any("error", err))
		return
	}
	wg.Go(func() {
		<-ctx.Done()
		if err := a.JobRegistry.Stop(context.WithoutCancel(ctx)); err != nil {
			a.Logger.Warn("background jobs did not stop cleanly", slog.Any("error", err))
		}
	})
}

// WorkerOptions are the inputs of RunWorker besides the configuration.
type WorkerOptions struct {
	Logger *slog.Logger
	Spec   []byte
	// Ready, when set, is called once jobs are being worked.
	Ready func()
}

// errNoWorkerDatabase says why a worker without a DSN cannot start.
var errNoWorkerDatabase = errors.New("worker needs database.dsn or a running managed database (start 'openwatch serve' with the same server.data_dir first)")

// RunWorker works background jobs until ctx ends, then stops them gracefully. It builds
// the same services as Serve (they do the work) but listens on no port and never creates
// the initial admin.
func RunWorker(ctx context.Context, cfg config.Config, o WorkerOptions) error {
	log := o.Logger
	doc, ops, err := prepare(cfg, o.Spec)
	if err != nil {
		return err
	}
	db, err := openWorkerDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	cfg.Worker.WithWorker = true
	m := metrics.New(buildinfo.Get())
	a, err := New(ctx, Deps{Config: cfg, Logger: log, Pool: db.Pool, Doc: doc, Operations: ops, ManagedDatabaseRunning: db.running(),
		Metrics: m, MetricsGatherer: m.Registry})
	if err != nil {
		return err
	}
	defer a.ServeMetrics(cfg.Metrics.WorkerListen)()
	if err := a.StartJobs(ctx); err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(ctx)
	waitBG := a.RunBackground(bg)
	log.Info("openwatch worker running", slog.Int("concurrency", cfg.Worker.Concurrency),
		slog.String("rescue_after", cfg.Worker.RescueAfter.String()), slog.Int("pid", os.Getpid()))
	if o.Ready != nil {
		o.Ready()
	}
	<-ctx.Done()
	log.Info("worker stopping")
	stopBG()
	waitBG()
	log.Info("worker stopped")
	return nil
}

// openWorkerDatabase connects to database.dsn, or attaches to the managed database that
// serve runs for the same data dir, and migrates its schema. A worker does not bring up a
// managed database nobody runs; once attached it keeps it up like serve does (restarting
// it if it disappears), even after serve stops.
func openWorkerDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*Database, error) {
	if cfg.ManagedDatabase() {
		if _, err := os.Stat(filepath.Join(cfg.Server.DataDir, cluster.LocationFile)); err != nil {
			return nil, errNoWorkerDatabase
		}
	}
	db, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if db.cluster != nil && !db.cluster.Attached() {
		db.Close(ctx)
		return nil, errNoWorkerDatabase
	}
	return db.migrated(ctx)
}

// jobStatus reads the job processing status for the liveness status endpoint.
func jobStatus(pool *pgxpool.Pool, jobs *worker.Registry) liveness.JobStatusFunc {
	return func(ctx context.Context) (liveness.JobStatus, error) {
		st, err := worker.ReadStatus(ctx, pool, jobs.Working())
		if err != nil {
			return liveness.JobStatus{}, err
		}
		out := liveness.JobStatus{WorkerLastSeen: st.LastSeen}
		for _, n := range st.Depth {
			out.QueueDepth += n
		}
		return out, nil
	}
}
