package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	dbq "github.com/openwatch/openwatch/gen/db"
)

// scrapeTimeout bounds the queries one scrape runs.
const scrapeTimeout = 2 * time.Second

// queueQuery counts the unfinished jobs per kind and how long the oldest one that may run
// now has waited. It reads only unfinished jobs (River's state index), never the completed
// ones that pile up: with 10,000 queued jobs and 10,000 hosts a whole scrape takes about
// 15 ms (BenchmarkScrape).
const queueQuery = `SELECT kind, state::text, count(*),
	coalesce(extract(epoch FROM now() - min(scheduled_at) FILTER (WHERE state = 'available')), 0)::float8
FROM river_job
WHERE state IN ('available', 'pending', 'scheduled', 'running', 'retryable')
GROUP BY kind, state`

// Database reads, at scrape time, the connection pool's statistics, the job queue and
// the audit chain's length.
type Database struct {
	pool *pgxpool.Pool

	up, auditLength                                 *prometheus.Desc
	poolMax, poolTotal, poolAcquired, poolIdle      *prometheus.Desc
	poolAcquires, poolEmptyAcquires, poolWaitSecond *prometheus.Desc
	queueDepth, queueOldest                         *prometheus.Desc
}

// NewDatabase returns the collector for pool.
func NewDatabase(pool *pgxpool.Pool) *Database {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
	}
	return &Database{pool: pool,
		up:                d("database_up", "1 when the database answered this scrape's queries, 0 when it did not."),
		auditLength:       d("audit_chain_length", "Events in the audit chain."),
		poolMax:           d("db_pool_max_connections", "Largest number of connections this process's pool opens."),
		poolTotal:         d("db_pool_connections", "Connections open in this process's pool."),
		poolAcquired:      d("db_pool_acquired_connections", "Connections in use."),
		poolIdle:          d("db_pool_idle_connections", "Connections open and idle."),
		poolAcquires:      d("db_pool_acquires_total", "Connections taken from the pool."),
		poolEmptyAcquires: d("db_pool_waits_total", "Acquisitions that had to wait because no connection was idle."),
		poolWaitSecond:    d("db_pool_wait_seconds_total", "Time spent waiting for a connection."),
		queueDepth:        d("job_queue_depth", "Background jobs not finished yet, by job kind and state.", "kind", "state"),
		queueOldest:       d("job_queue_oldest_available_age_seconds", "How long the oldest job that may run now has waited, by job kind (0 when none waits): the queue's latency.", "kind"),
	}
}

// Describe implements prometheus.Collector.
func (c *Database) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.auditLength, c.poolMax, c.poolTotal, c.poolAcquired, c.poolIdle,
		c.poolAcquires, c.poolEmptyAcquires, c.poolWaitSecond, c.queueDepth, c.queueOldest} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Database) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	st := c.pool.Stat()
	gauge(c.poolMax, float64(st.MaxConns()))
	gauge(c.poolTotal, float64(st.TotalConns()))
	gauge(c.poolAcquired, float64(st.AcquiredConns()))
	gauge(c.poolIdle, float64(st.IdleConns()))
	counter(c.poolAcquires, float64(st.AcquireCount()))
	counter(c.poolEmptyAcquires, float64(st.EmptyAcquireCount()))
	counter(c.poolWaitSecond, st.AcquireDuration().Seconds())

	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	if n, err := dbq.New(c.pool).AuditChainLength(ctx); err == nil {
		gauge(c.auditLength, float64(n))
	} else {
		up = 0
	}
	if err := c.collectQueue(ctx, gauge); err != nil {
		up = 0
	}
	gauge(c.up, up)
}

func (c *Database) collectQueue(ctx context.Context, gauge func(*prometheus.Desc, float64, ...string)) error {
	rows, err := c.pool.Query(ctx, queueQuery)
	if err != nil {
		return err
	}
	var kind, state string
	var n int64
	var oldest float64
	oldestByKind := map[string]float64{}
	_, err = pgx.ForEachRow(rows, []any{&kind, &state, &n, &oldest}, func() error {
		gauge(c.queueDepth, float64(n), kind, state)
		oldestByKind[kind] = max(oldestByKind[kind], oldest) // 0 for every state but available
		return nil
	})
	if err != nil {
		return err
	}
	for k, v := range oldestByKind {
		gauge(c.queueOldest, v, k)
	}
	return nil
}
