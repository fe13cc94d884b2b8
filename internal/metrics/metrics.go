package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/openwatch/openwatch/internal/buildinfo"
)

// Namespace prefixes every family.
const Namespace = "openwatch"

// Metrics is one process's registry and the instruments code reports to. The zero value
// is not usable; build it with New. Its observer methods are safe for concurrent use and
// do nothing on a nil *Metrics, so code built without metrics (tools, some tests) needs
// no checks.
type Metrics struct {
	// Registry is what the listener serves; add scrape-time collectors with Register.
	Registry *prometheus.Registry

	httpDuration     *prometheus.HistogramVec
	sshDials         *prometheus.CounterVec
	sshSessions      *prometheus.CounterVec
	scanDuration     *prometheus.HistogramVec
	scanRules        prometheus.Counter
	notifyDeliveries *prometheus.CounterVec
	jobDuration      *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors, the build info
// gauge and OpenWatch's instruments registered.
func New(build buildinfo.Info) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from receiving an API request to writing its answer, by operationId and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "status"}),
		sshDials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ssh", Name: "dials_total",
			Help: "SSH logins attempted, by result: ok, or the error type (timeout, connection_refused, auth_failed, not_allowed, ...).",
		}, []string{"result"}),
		sshSessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ssh", Name: "sessions_total",
			Help: "SSH sessions (commands, batches) opened on established connections, by result: ok or failed.",
		}, []string{"result"}),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "scan", Name: "duration_seconds",
			Help:    "Compliance scan run time on one host, by outcome (completed, failed).",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"outcome"}),
		scanRules: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "scan", Name: "rules_evaluated_total",
			Help: "Compliance rules evaluated by completed scans; rate() of it is rules per second.",
		}),
		notifyDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "notification", Name: "deliveries_total",
			Help: "Notification delivery attempts, by channel type and outcome (delivered, failed).",
		}, []string{"channel_type", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "job", Name: "duration_seconds",
			Help:    "Background job run time in this process, by job kind and outcome (ok, failed).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind", "outcome"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; the labels carry the running build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit, "go": build.Go},
	})
	info.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info, m.httpDuration, m.sshDials, m.sshSessions, m.scanDuration, m.scanRules, m.notifyDeliveries, m.jobDuration,
	)
	return m
}

// Register adds a scrape-time collector. It panics on a duplicate family, a programming
// error found by the first test.
func (m *Metrics) Register(c prometheus.Collector) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(c)
}

// ObserveHTTP records one answered API request.
func (m *Metrics) ObserveHTTP(operation string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpDuration.WithLabelValues(operation, strconv.Itoa(status)).Observe(d.Seconds())
}

// Dialed records one SSH login: errorType is "" when it succeeded.
func (m *Metrics) Dialed(errorType string) {
	if m == nil {
		return
	}
	if errorType == "" {
		errorType = "ok"
	}
	m.sshDials.WithLabelValues(errorType).Inc()
}

// SessionOpened records one SSH session opened (ok) or refused (failed).
func (m *Metrics) SessionOpened(ok bool) {
	if m == nil {
		return
	}
	m.sshSessions.WithLabelValues(outcome(ok, "ok", "failed")).Inc()
}

// ScanFinished records one compliance scan's run time and, when it completed, how many
// rules it evaluated.
func (m *Metrics) ScanFinished(d time.Duration, rules int, completed bool) {
	if m == nil {
		return
	}
	m.scanDuration.WithLabelValues(outcome(completed, "completed", "failed")).Observe(d.Seconds())
	if completed {
		m.scanRules.Add(float64(rules))
	}
}

// Delivered records one notification delivery attempt on a channel of channelType.
func (m *Metrics) Delivered(channelType string, ok bool) {
	if m == nil {
		return
	}
	m.notifyDeliveries.WithLabelValues(channelType, outcome(ok, "delivered", "failed")).Inc()
}

// JobWorked records one background job run in this process.
func (m *Metrics) JobWorked(kind string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.jobDuration.WithLabelValues(kind, outcome(err == nil, "ok", "failed")).Observe(d.Seconds())
}

func outcome(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
