package retention_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/retention"
)

// setup returns an application that works no jobs (the test runs retention itself) and
// deletes in batches of two, so every kind takes several batches.
func setup(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t, func(d *app.Deps) {
		d.Config.Worker.WithWorker = false
		d.RetentionBatch = 2
	})
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	_, err := pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// TestApplyDeletesOldRowsOfEveryKind puts rows older than every default retention
// (400 days) and recent ones (a day) into each kind's tables, runs the job, and checks
// that the old ones went, the recent ones stayed, the run was recorded with its counts,
// and the audit trail is whole and verifies.
func TestApplyDeletesOldRowsOfEveryKind(t *testing.T) {
	t.Parallel()
	env := setup(t)
	pool := env.App.Pool
	admin := env.Admin()
	// Some audit history to keep.
	env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
		JSON: map[string]any{"hostname": "keep.example.com", "ip_address": "127.0.0.9"}})
	auditBefore := count(t, pool, `SELECT count(*) FROM audit_events`)

	old, recent := time.Now().AddDate(0, 0, -400), time.Now().AddDate(0, 0, -1)
	host := uuid.New()
	exec(t, pool, `INSERT INTO hosts (id, hostname, ip_address) VALUES ($1, 'h.example.com', '127.0.0.2')`, host)
	channel := uuid.New()
	exec(t, pool, `INSERT INTO notification_channels (id, name, type) VALUES ($1, 'c', 'webhook')`, channel)
	for range 5 {
		for _, at := range []time.Time{old, recent} {
			exec(t, pool, `INSERT INTO feed_items (id, kind, title, audience_permission, created_at) VALUES ($1, 'test', 't', 'host:read', $2)`, uuid.New(), at)
			exec(t, pool, `INSERT INTO intelligence_events (id, host_id, event_code, severity, occurred_at, detected_at) VALUES ($1, $2, 'x', 'info', $3, $3)`, uuid.New(), host, at)
			exec(t, pool, `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state) VALUES ($1, $2, 'online')`, host, at)
			exec(t, pool, `INSERT INTO change_jobs (id, kind, name, status, spec, selector, canary, growth, approval_required, created_at, updated_at)
				VALUES ($1, 'patch', 'p', 'completed', '{}', '{}', 1, 2, false, $2, $2)`, uuid.New(), at)
			exec(t, pool, `INSERT INTO reports (id, kind, status, title, scope, parameters, requested_by, requested_by_name, created_at)
				VALUES ($1, 'compliance', 'failed', 'r', '{}', '{}', 'system', 'system', $2)`, uuid.New(), at)
			exec(t, pool, `INSERT INTO notification_deliveries (id, channel_id, transition, severity, title, payload, status, created_at)
				VALUES ($1, $2, 'opened', 'high', 't', '{}', 'delivered', $3)`, uuid.New(), channel, at)
			exec(t, pool, `INSERT INTO river_job (args, kind, max_attempts, state, finalized_at, queue, priority, attempt, created_at, scheduled_at)
				VALUES ('{}', 'retention_test', 1, 'discarded', $1, 'default', 1, 1, $1, $1)`, at)
			exec(t, pool, `INSERT INTO evidence (hash, body, created_at) VALUES ($1, '{}', $2)`, []byte(uuid.NewString()), at)
		}
	}
	// Work not finished is never deleted, however old.
	running := uuid.New()
	exec(t, pool, `INSERT INTO change_jobs (id, kind, name, status, spec, selector, canary, growth, approval_required, created_at, updated_at)
		VALUES ($1, 'patch', 'p', 'running', '{}', '{}', 1, 2, false, $2, $2)`, running, old)
	exec(t, pool, `INSERT INTO notification_deliveries (id, channel_id, transition, severity, title, payload, status, created_at)
		VALUES ($1, $2, 'opened', 'high', 't', '{}', 'pending', $3)`, uuid.New(), channel, old)
	exec(t, pool, `INSERT INTO river_job (args, kind, max_attempts, state, queue, priority, attempt, created_at, scheduled_at)
		VALUES ('{}', 'retention_test', 1, 'available', 'default', 1, 0, $1, $1)`, old)
	// Old evidence a host's current result (its latest scan's) uses stays, and so does the result.
	exec(t, pool, `INSERT INTO evidence (hash, body, created_at) VALUES ('current', '{}', $1)`, old)
	exec(t, pool, `INSERT INTO rule_states (host_id, rule_id, status, severity, evidence_hash, scan_id, first_seen_at, changed_at)
		VALUES ($1, 'r1', 'pass', 'high', 'current', $2, $3, $3)`, host, uuid.New(), old)
	// A host whose only check is old keeps it.
	lonely := uuid.New()
	exec(t, pool, `INSERT INTO hosts (id, hostname, ip_address) VALUES ($1, 'l.example.com', '127.0.0.3')`, lonely)
	exec(t, pool, `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state) VALUES ($1, $2, 'down')`, lonely, old)

	run, err := env.App.Retention.Apply(t.Context())
	require.NoError(t, err)
	require.Equal(t, "completed", run.Status)
	var deleted map[string]int64
	require.NoError(t, json.Unmarshal(run.Deleted, &deleted))
	require.Equal(t, map[string]int64{"events": 10, "scan_evidence": 5, "monitoring": 5, "jobs": 5, "change_jobs": 5,
		"reports": 5, "notification_deliveries": 5}, deleted)

	require.Equal(t, 5, count(t, pool, `SELECT count(*) FROM feed_items WHERE kind = 'test'`))
	require.Equal(t, 5, count(t, pool, `SELECT count(*) FROM intelligence_events`))
	require.Equal(t, 5, count(t, pool, `SELECT count(*) FROM host_monitoring_history WHERE host_id = $1`, host))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM host_monitoring_history WHERE host_id = $1`, lonely))
	require.Equal(t, 6, count(t, pool, `SELECT count(*) FROM change_jobs`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM change_jobs WHERE id = $1`, running))
	require.Equal(t, 5, count(t, pool, `SELECT count(*) FROM reports`))
	require.Equal(t, 6, count(t, pool, `SELECT count(*) FROM notification_deliveries`))
	require.Equal(t, 6, count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'retention_test'`))
	require.Equal(t, 6, count(t, pool, `SELECT count(*) FROM evidence`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM evidence WHERE hash = 'current'`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM rule_states`))
	for _, table := range []string{"feed_items", "change_jobs", "reports", "notification_deliveries"} {
		require.Zero(t, count(t, pool, `SELECT count(*) FROM `+table+` WHERE created_at < now() - interval '300 days'`+
			map[bool]string{true: ` AND status <> 'running' AND status <> 'pending'`}[table == "change_jobs" || table == "notification_deliveries"]), table)
	}

	// The audit trail lost nothing, gained the run's batches, and verifies.
	require.GreaterOrEqual(t, count(t, pool, `SELECT count(*) FROM audit_events`), auditBefore+7)
	// Batches of two: three per table of five rows.
	require.Equal(t, 6, count(t, pool, `SELECT count(*) FROM audit_events WHERE action = 'system.retention_applied' AND detail->>'kind' = 'events'`))
	res, err := env.App.Audit.Verify(t.Context())
	require.NoError(t, err)
	require.True(t, res.OK, res.Reason)

	// A second run finds nothing more.
	run, err = env.App.Retention.Apply(t.Context())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(run.Deleted, &deleted))
	for k, n := range deleted {
		require.Zero(t, n, k)
	}

	// The runs are shown newest first.
	var got api.RetentionSettings
	res2 := env.Do(apitest.Request{Method: http.MethodGet, Path: "admin/retention", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	res2.Decode(t, &got)
	require.Len(t, got.Runs, 2)
	require.Equal(t, run.ID, got.Runs[0].Id)
	require.EqualValues(t, 10, got.Runs[1].Deleted["events"])
}

// TestAuditIsNeverAKind: the audit trail has no policy and cannot be deleted.
func TestAuditIsNeverAKind(t *testing.T) {
	t.Parallel()
	for _, k := range retention.Kinds() {
		require.NotContains(t, k.ID, "audit")
	}
	env := setup(t)
	env.Admin()
	_, err := env.App.Pool.Exec(t.Context(), `DELETE FROM audit_events`)
	require.Error(t, err, "audit events refuse deletion")
}

func TestPolicyAPI(t *testing.T) {
	t.Parallel()
	env := setup(t)
	admin := env.Admin()
	var got api.RetentionSettings
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "admin/retention", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &got)
	require.Equal(t, api.RetentionPolicy{EventsDays: 90, ScanEvidenceDays: 30, MonitoringDays: 30, JobsDays: 7, ChangeJobsDays: 365,
		ReportsDays: 365, NotificationDeliveriesDays: 90, UpdatedAt: got.Policy.UpdatedAt, UpdatedBy: "system"}, got.Policy)
	require.Equal(t, api.NeverDeleted, got.AuditRetention)
	require.Len(t, got.Kinds, len(retention.Kinds()))
	require.Empty(t, got.Runs)

	body := map[string]any{"events_days": 30, "scan_evidence_days": 7, "monitoring_days": 14, "jobs_days": 2,
		"change_jobs_days": 180, "reports_days": 400, "notification_deliveries_days": 30}
	res = env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/retention", Token: admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &got)
	require.Equal(t, 30, got.Policy.EventsDays)
	require.Equal(t, 400, got.Policy.ReportsDays)
	require.NotEqual(t, "system", got.Policy.UpdatedBy)

	// Below a kind's minimum: a 400 naming the field; above the maximum or missing: 400.
	body["events_days"] = 3
	res = env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/retention", Token: admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "events_days", res.Err(t).Error.Detail["field"])
	body["events_days"] = 4000
	require.Equal(t, http.StatusBadRequest, env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/retention", Token: admin.AccessToken, JSON: body}).Status)
	delete(body, "events_days")
	require.Equal(t, http.StatusBadRequest, env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/retention", Token: admin.AccessToken, JSON: body}).Status)

	// Audited with before and after.
	var page api.AuditEventsPage
	env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?action=system.retention_policy_changed", Token: admin.AccessToken}).Decode(t, &page)
	require.Len(t, page.Items, 1)

	// Only the admin holds the permission.
	pw := env.CreateUser("sec", authz.RoleSecurityAdmin)
	s := env.Login("sec", pw)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "admin/retention", Token: s.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status)
}
