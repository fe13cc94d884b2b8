package scan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// IngestReport is what MeasureIngest measured.
type IngestReport struct {
	Scans, Results, Changed int64
	Took                    time.Duration
}

// PerSecond is the scans stored per second.
func (r IngestReport) PerSecond() float64 { return float64(r.Scans) / r.Took.Seconds() }

// MeasureIngest stores `scans` synthetic scans through the same path a scan worker takes
// (ScanFinish, evidence, states, transitions, rollups, fleet totals, the live event), with
// `workers` at a time, and reports the rate (`openwatch dev ingest`; development and
// benchmarks only). Each scan is of a host that already has results (openwatch dev seed
// --rules): its results are the host's current ones with changePercent of them changed
// (status flipped between pass and fail, new evidence). Hosts are taken in turn, never two
// at once, as the scheduler would.
func (s *Service) MeasureIngest(ctx context.Context, scans, workers, changePercent int) (IngestReport, error) {
	hosts, err := s.hostsWithResults(ctx)
	if err != nil {
		return IngestReport{}, err
	}
	if len(hosts) < workers {
		return IngestReport{}, fmt.Errorf("%d hosts have results; seed more than %d (openwatch dev seed --rules)", len(hosts), workers)
	}
	var next, stored, results, changed atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for {
				i := next.Add(1) - 1
				if i >= int64(scans) || ctx.Err() != nil {
					return
				}
				// Workers take hosts in turn: host i%len is never scanned twice at once
				// while len(hosts) >= workers.
				n, c, err := s.ingestOne(ctx, hosts[int(i)%len(hosts)], changePercent, rng)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				stored.Add(1)
				results.Add(int64(n))
				changed.Add(int64(c))
			}
		})
	}
	wg.Wait()
	rep := IngestReport{Scans: stored.Load(), Results: results.Load(), Changed: changed.Load(), Took: time.Since(start)}
	return rep, firstErr
}

func (s *Service) hostsWithResults(ctx context.Context) ([]uuid.UUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT host_id FROM host_compliance WHERE framework = 'all'`)
	if err != nil {
		return nil, pg.Translate(err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// ingestOne queues and starts a scan of the host, makes its results and stores them.
func (s *Service) ingestOne(ctx context.Context, hostID uuid.UUID, changePercent int, rng *rand.Rand) (results, changed int, err error) {
	states, err := s.q.ComplianceStatesOfHost(ctx, hostID)
	if err != nil {
		return 0, 0, pg.Translate(err)
	}
	var row dbq.Scan
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		queued, err := q.ScanInsert(ctx, dbq.ScanInsertParams{ID: newID(), HostID: hostID, Trigger: "scheduled",
			RequestedBy: "system", CreatedAt: s.now()})
		if err != nil {
			return err
		}
		row, err = q.ScanStart(ctx, dbq.ScanStartParams{ID: queued.ID, StartedAt: s.now()})
		return err
	})
	if err != nil {
		return 0, 0, pg.Translate(err)
	}
	run := &engine.Scan{Host: engine.Host{Family: "debian", Version: "12"}, Sessions: 1, Records: 70,
		Privilege: sshx.PrivRoot, Timings: map[string]time.Duration{"os": time.Millisecond}}
	for _, st := range states {
		r, ok := s.cat.Rule(st.RuleID)
		if !ok {
			r = syntheticRule(st.RuleID, rule.Severity(st.Severity))
		}
		status := engine.Status(st.Status)
		actual := ""
		if rng.IntN(100) < changePercent {
			changed++
			actual = fmt.Sprintf("changed %d", rng.Int())
			switch status {
			case engine.StatusPass:
				status = engine.StatusFail
			case engine.StatusFail:
				status = engine.StatusPass
			}
		}
		run.Results = append(run.Results, syntheticResult(r, status, actual))
	}
	if err := s.store(ctx, row, run); err != nil {
		return 0, 0, err
	}
	return len(run.Results), changed, nil
}

// syntheticRuleID names the synthetic rules the seed adds past the corpus.
const syntheticRuleID = "bench-synthetic-%03d"

// syntheticRule is a made-up rule of that name; an empty severity is chosen from the
// name, so every process agrees on it.
func syntheticRule(id string, severity rule.Severity) *rule.Rule {
	if severity == "" {
		severity = []rule.Severity{rule.SeverityMedium, rule.SeverityLow, rule.SeverityHigh, rule.SeverityMedium, rule.SeverityCritical}[int(id[len(id)-1])%5]
	}
	return &rule.Rule{ID: id, Severity: severity}
}

// syntheticResult is the made-up result of a rule that the seed stores and MeasureIngest's
// scans report: the same rule, status and actual value give the same evidence, so a scan
// of a seeded host changes only what it was told to change. An empty actual is the seeded
// value.
func syntheticResult(r *rule.Rule, status engine.Status, actual string) engine.Result {
	if actual == "" {
		actual = "as seeded"
	}
	reason := ""
	if status != engine.StatusPass {
		reason = "seeded"
	}
	return engine.Result{RuleID: r.ID, Status: status, Severity: r.Severity, Reason: reason, Applicable: true,
		Evidence: &engine.Evidence{Method: "config_value", Parameters: map[string]any{"key": r.ID}, Status: status,
			Commands: []string{"grep " + r.ID}, Expected: "as configured", Actual: actual, Records: []string{"os"}}}
}
