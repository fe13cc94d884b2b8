package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/system"
	"github.com/openwatch/openwatch/internal/worker"
)

// monitor is what the system status reads about this process's metrics listener.
type monitor struct {
	listen atomic.Pointer[string]
}

// readinessChecks returns the checks of GET /ready: the database answers, its schema and
// River's are at this binary's versions, a worker process is alive (River's leader lease,
// renewed every few seconds by whichever worker process leads, in-process or not) and,
// for the managed local cluster, its server runs.
func readinessChecks(d Deps, jobs *worker.Registry) []system.Check {
	log := d.Logger
	checks := []system.Check{
		{Name: "database", Run: func(ctx context.Context) (bool, string) {
			if err := d.Pool.Ping(ctx); err != nil {
				log.WarnContext(ctx, "readiness: database ping failed", slog.Any("error", err))
				return false, "The database did not answer."
			}
			return true, "The database answers."
		}},
		{Name: "migrations", Run: func(ctx context.Context) (bool, string) {
			st, err := pg.ReadMigrationState(ctx, d.Pool)
			if err != nil {
				log.WarnContext(ctx, "readiness: read migration state", slog.Any("error", err))
				return false, "The schema version could not be read."
			}
			detail := fmt.Sprintf("Schema at version %d of %d, job queue at version %d of %d.",
				st.SchemaVersion, st.SchemaLatest, st.RiverVersion, st.RiverLatest)
			return st.Current(), detail
		}},
		{Name: "worker", Run: func(ctx context.Context) (bool, string) {
			st, err := worker.ReadStatus(ctx, d.Pool, jobs.Working())
			if err != nil {
				log.WarnContext(ctx, "readiness: read worker status", slog.Any("error", err))
				return false, "The worker status could not be read."
			}
			switch {
			case st.LeaderAlive:
				return true, fmt.Sprintf("A worker process was seen %s ago.", time.Since(*st.LastSeen).Round(time.Second))
			case st.LastSeen != nil:
				return false, fmt.Sprintf("No worker process has been seen for %s: start 'openwatch worker' or serve with worker.with_worker.", time.Since(*st.LastSeen).Round(time.Second))
			default:
				return false, "No worker process has been seen: start 'openwatch worker' or serve with worker.with_worker."
			}
		}},
	}
	if running := d.ManagedDatabaseRunning; running != nil {
		checks = append(checks, system.Check{Name: "managed_database", Run: func(context.Context) (bool, string) {
			if running() {
				return true, "The managed PostgreSQL server is running."
			}
			return false, "The managed PostgreSQL server is not running; it is being started again."
		}})
	}
	return checks
}

// statusSource returns what GET /system/status reads besides the readiness checks.
func statusSource(d Deps, jobs *worker.Registry, mon *monitor) system.StatusSource {
	m := d.Config.Metrics
	return system.StatusSource{
		ManagedDatabase: d.ManagedDatabaseRunning != nil,
		ServerVersion: func(ctx context.Context) string {
			var v string
			if err := d.Pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
				return ""
			}
			return v
		},
		Pool: func() system.PoolStats {
			st := d.Pool.Stat()
			return system.PoolStats{MaxConns: int(st.MaxConns()), TotalConns: int(st.TotalConns()), AcquiredConns: int(st.AcquiredConns()),
				IdleConns: int(st.IdleConns()), AcquireCount: st.AcquireCount(), EmptyAcquireCount: st.EmptyAcquireCount(), AcquireWait: st.AcquireDuration()}
		},
		Workers: func(ctx context.Context) (system.Workers, error) {
			st, err := worker.ReadStatus(ctx, d.Pool, jobs.Working())
			if err != nil {
				return system.Workers{}, err
			}
			return system.Workers{ThisProcess: st.Working, LeaderAlive: st.LeaderAlive, LastSeen: st.LastSeen, Depth: st.Depth}, nil
		},
		Metrics: func() system.MetricsInfo {
			info := system.MetricsInfo{Auth: m.MetricsAuth(), TLS: m.TLSCert != ""}
			if addr := mon.listen.Load(); addr != nil {
				info.Enabled, info.Listen = true, *addr
			}
			return info
		},
	}
}

// registerCollectors adds the scrape-time collectors: the database (pool, job queue,
// audit chain) and this process's event stream subscribers.
func registerCollectors(d Deps, broker *events.Broker) {
	d.Metrics.Register(metrics.NewDatabase(d.Pool))
	d.Metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: "events", Name: "subscribers",
		Help: "Live event streams (SSE) this process serves.",
	}, func() float64 { return float64(broker.Subscribers()) }))
}

// ServeMetrics serves the metrics on addr ([metrics] listen, or worker_listen for a
// worker process) until the returned function is called. A listener that cannot start is
// logged, not fatal: the process serves its purpose without it.
func (a *App) ServeMetrics(addr string) (stop func()) {
	m := a.Config.Metrics
	if addr == "" {
		return func() {}
	}
	o := metrics.ListenerOptions{Addr: addr, BasicUsername: m.BasicUsername, BasicPassword: m.BasicPassword,
		TLSCert: m.TLSCert, TLSKey: m.TLSKey, Logger: a.Logger}
	if m.BearerTokenFile != "" {
		token, err := metrics.ReadBearerTokenFile(m.BearerTokenFile)
		if err != nil {
			a.Logger.Error("metrics are not served", slog.Any("error", err))
			return func() {}
		}
		o.BearerToken = token
	}
	bound, stopListener, err := a.Metrics.Serve(o)
	if err != nil {
		a.Logger.Error("metrics are not served", slog.Any("error", err))
		return func() {}
	}
	s := bound.String()
	a.monitor.listen.Store(&s)
	a.Logger.Info("serving metrics", slog.String("metrics_listen", s), slog.String("auth", m.MetricsAuth()))
	return func() {
		a.monitor.listen.Store(nil)
		stopListener()
	}
}
