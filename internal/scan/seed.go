package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/pg"
)

// SeedReport says what SeedCompliance wrote.
type SeedReport struct {
	Hosts, Rules    int
	States, Changes int64
	Took            time.Duration
}

// SeedCompliance gives every live host without results a completed scan of the first
// `rules` rules of the corpus with realistic results (when the corpus has fewer, as many
// synthetic rules follow, syntheticRuleID: results a benchmark reads and writes like any
// other, in no framework, so the fleet summaries leave them out):
// about 70 % pass, 20 % fail, 7 % skipped and 3 % error, decided by a hash of host and
// rule so a seed is reproducible. Each result has its first_seen transition a week ago;
// changePercent of them changed status since (a state_changed transition a day ago, the
// state being the new status). Each host's rows are written together, as its scans
// would. Rollups per host and framework, their history, the fleet
// totals and the per-rule host counts are computed from the states, as scans keep them.
// Development and benchmarks only (`openwatch dev seed --rules N`); no audit events.
func SeedCompliance(ctx context.Context, pool *pgxpool.Pool, cat *Catalog, rules, changePercent int) (SeedReport, error) {
	start := time.Now()
	all := cat.Rules()
	if rules <= 0 {
		rules = len(all)
	}
	picked := all[:min(rules, len(all))]
	for i := range rules - len(picked) {
		picked = append(picked, syntheticRule(fmt.Sprintf(syntheticRuleID, i+1), "")) // the severity follows from the id
	}
	ids := make([]string, len(picked))
	severities := make([]string, len(picked))
	var mapRules, mapFrameworks []string
	for i, r := range picked {
		ids[i], severities[i] = r.ID, string(r.Severity)
		for _, f := range cat.FrameworksOf(r.ID) {
			mapRules, mapFrameworks = append(mapRules, r.ID), append(mapFrameworks, f)
		}
	}
	// Each rule's evidence per status, as MeasureIngest's scans will report it unchanged.
	var evRules, evStatuses []string
	var evHashes, evBodies [][]byte
	for _, r := range picked {
		for _, st := range []engine.Status{engine.StatusPass, engine.StatusFail, engine.StatusSkipped, engine.StatusError} {
			res, err := resultsOf(&engine.Scan{Results: []engine.Result{syntheticResult(r, st, "")}})
			if err != nil {
				return SeedReport{}, err
			}
			evRules, evStatuses = append(evRules, r.ID), append(evStatuses, string(st))
			evHashes, evBodies = append(evHashes, res[0].Hash), append(evBodies, res[0].Body)
		}
	}
	rep := SeedReport{Rules: rules}
	weekAgo, dayAgo := start.Add(-7*24*time.Hour), start.Add(-24*time.Hour)
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		steps := []struct {
			sql  string
			args []any
			n    *int64
		}{
			{`CREATE TEMP TABLE seed_hosts ON COMMIT DROP AS
			  SELECT h.id AS host_id, gen_random_uuid() AS scan_id FROM hosts h
			  WHERE h.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM rule_states s WHERE s.host_id = h.id)`, nil, nil},
			{`CREATE TEMP TABLE seed_evidence ON COMMIT DROP AS
			  SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) AS e(rule_id, status, hash, body)`,
				[]any{evRules, evStatuses, evHashes, evBodies}, nil},
			{`CREATE UNIQUE INDEX ON seed_evidence (rule_id, status)`, nil, nil},
			{`INSERT INTO evidence (hash, body, created_at) SELECT hash, body, now() FROM seed_evidence ON CONFLICT DO NOTHING`, nil, nil},
			{`INSERT INTO scans (id, host_id, status, trigger, requested_by, created_at, started_at, finished_at, rules_total,
			      records_total, records_done, sessions, privilege, os_family, os_version)
			  SELECT scan_id, host_id, 'completed', 'scheduled', 'system', $1::timestamptz, $1::timestamptz, $1::timestamptz, $2::int,
			      1, 1, 1, 'root', 'debian', '12'
			  FROM seed_hosts`, []any{dayAgo, rules}, nil},
			{`CREATE TEMP TABLE seed_states ON COMMIT DROP AS
			  SELECT h.host_id, h.scan_id, r.rule_id, r.severity,
			      CASE WHEN x < 70 THEN 'pass' WHEN x < 90 THEN 'fail' WHEN x < 97 THEN 'skipped' ELSE 'error' END AS status,
			      (abs(hashtext(r.rule_id || h.host_id::text)) % 100) < $3::int AS changed
			  FROM seed_hosts h
			  CROSS JOIN unnest($1::text[], $2::text[]) AS r(rule_id, severity)
			  CROSS JOIN LATERAL (SELECT abs(hashtext(h.host_id::text || r.rule_id)) % 100 AS x) AS v`,
				[]any{ids, severities, changePercent}, nil},
			{`INSERT INTO rule_states (host_id, rule_id, status, severity, reason, evidence_hash, scan_id, first_seen_at, changed_at)
			  SELECT s.host_id, s.rule_id, s.status, s.severity, CASE WHEN s.status = 'pass' THEN '' ELSE 'seeded' END,
			      e.hash, s.scan_id, $1::timestamptz, CASE WHEN s.changed THEN $2::timestamptz ELSE $1::timestamptz END
			  FROM seed_states s JOIN seed_evidence e USING (rule_id, status) ORDER BY s.host_id, s.rule_id`, []any{weekAgo, dayAgo}, &rep.States},
			{`INSERT INTO rule_transitions (id, host_id, rule_id, scan_id, change_kind, status, previous_status, severity,
			      previous_severity, reason, evidence_hash, occurred_at)
			  SELECT gen_random_uuid(), s.host_id, s.rule_id, s.scan_id, 'first_seen', s.first, NULL, s.severity, NULL,
			      CASE WHEN s.first = 'pass' THEN '' ELSE 'seeded' END, e.hash, $1
			  FROM (SELECT *, CASE WHEN changed THEN (CASE WHEN status = 'pass' THEN 'fail' ELSE 'pass' END) ELSE status END AS first
			        FROM seed_states) s
			  JOIN seed_evidence e ON e.rule_id = s.rule_id AND e.status = s.first
			  ORDER BY s.host_id, s.rule_id`, []any{weekAgo}, nil},
			{`INSERT INTO rule_transitions (id, host_id, rule_id, scan_id, change_kind, status, previous_status, severity,
			      previous_severity, reason, evidence_hash, occurred_at)
			  SELECT gen_random_uuid(), s.host_id, s.rule_id, s.scan_id, 'state_changed', s.status,
			      CASE WHEN s.status = 'pass' THEN 'fail' ELSE 'pass' END, s.severity, NULL,
			      CASE WHEN s.status = 'pass' THEN '' ELSE 'seeded' END, e.hash, $1
			  FROM seed_states s JOIN seed_evidence e USING (rule_id, status) WHERE s.changed`, []any{dayAgo}, &rep.Changes},
			{`CREATE TEMP TABLE seed_rollups ON COMMIT DROP AS
			  SELECT s.host_id, m.framework,
			      count(*) FILTER (WHERE s.status = 'pass')::int AS pass_count,
			      count(*) FILTER (WHERE s.status = 'fail')::int AS fail_count,
			      count(*) FILTER (WHERE s.status = 'skipped')::int AS skipped_count,
			      count(*) FILTER (WHERE s.status = 'error')::int AS error_count,
			      count(*) FILTER (WHERE s.status = 'fail' AND s.severity = 'critical')::int AS critical_failing
			  FROM seed_states s JOIN unnest($1::text[], $2::text[]) AS m(rule_id, framework) ON m.rule_id = s.rule_id
			  GROUP BY s.host_id, m.framework`, []any{mapRules, mapFrameworks}, nil},
			{`INSERT INTO host_compliance (host_id, framework, pass_count, fail_count, skipped_count, error_count, critical_failing, updated_at)
			  SELECT host_id, framework, pass_count, fail_count, skipped_count, error_count, critical_failing, $1 FROM seed_rollups`,
				[]any{dayAgo}, nil},
			{`INSERT INTO host_compliance_history (host_id, framework, valid_from, pass_count, fail_count, skipped_count, error_count, critical_failing)
			  SELECT host_id, framework, $1, pass_count, fail_count, skipped_count, error_count, critical_failing FROM seed_rollups`,
				[]any{dayAgo}, nil},
			{`INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count, skipped_count, error_count)
			  SELECT framework, compliance_shard(host_id), sum(pass_count), sum(fail_count), sum(skipped_count), sum(error_count)
			  FROM seed_rollups GROUP BY 1, 2
			  ON CONFLICT (framework, shard) DO UPDATE SET
			      pass_count = fleet_compliance.pass_count + EXCLUDED.pass_count,
			      fail_count = fleet_compliance.fail_count + EXCLUDED.fail_count,
			      skipped_count = fleet_compliance.skipped_count + EXCLUDED.skipped_count,
			      error_count = fleet_compliance.error_count + EXCLUDED.error_count`, nil, nil},
			{`INSERT INTO rule_fleet (rule_id, pass_hosts, fail_hosts, skipped_hosts, error_hosts)
			  SELECT rule_id, count(*) FILTER (WHERE status = 'pass'), count(*) FILTER (WHERE status = 'fail'),
			      count(*) FILTER (WHERE status = 'skipped'), count(*) FILTER (WHERE status = 'error')
			  FROM seed_states GROUP BY rule_id ORDER BY rule_id
			  ON CONFLICT (rule_id) DO UPDATE SET
			      pass_hosts = rule_fleet.pass_hosts + EXCLUDED.pass_hosts, fail_hosts = rule_fleet.fail_hosts + EXCLUDED.fail_hosts,
			      skipped_hosts = rule_fleet.skipped_hosts + EXCLUDED.skipped_hosts, error_hosts = rule_fleet.error_hosts + EXCLUDED.error_hosts`, nil, nil},
		}
		for i, st := range steps {
			tag, err := tx.Exec(ctx, st.sql, st.args...)
			if err != nil {
				return fmt.Errorf("seed compliance step %d: %w", i+1, pg.Translate(err))
			}
			if st.n != nil {
				*st.n = tag.RowsAffected()
			}
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM seed_hosts`).Scan(&rep.Hosts)
	})
	if err != nil {
		return rep, err
	}
	// As a fleet scanned over time would leave them: each host's rows together (the
	// inserts above are in host order), hint bits set and statistics current.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) scans, rule_states, rule_transitions, host_compliance, host_compliance_history, fleet_compliance, rule_fleet`); err != nil {
		return rep, pg.Translate(err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}
