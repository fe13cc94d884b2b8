package vuln

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
)

// AlertCritical is the alert type raised when matching opens an exposure of a host to a
// critical advisory that no exception in force excepts.
const AlertCritical = "vulnerability_critical"

// criticalKey is the dedup key of the vulnerability_critical alert of one host and
// advisory: an operator acts (patches or excepts) per host and advisory, and each resolves
// on its own.
func criticalKey(host uuid.UUID, advisory string) string {
	return AlertCritical + ":" + host.String() + ":" + advisory
}

// criticalAlerts keeps the vulnerability_critical alerts in line with exposure inside the
// caller's transaction after a matching run at now (hostID: only that host's run): it
// raises one for each exposure the run opened or reopened to a critical advisory that no
// exception excepts, and resolves the live ones whose exposure is gone or excepted.
func criticalAlerts(ctx context.Context, tx pgx.Tx, aw *audit.Writer, hostID *uuid.UUID, now time.Time) (int, error) {
	// first_seen was stored at the database's microsecond precision.
	rows, err := dbq.New(tx).VulnCriticalOpened(ctx, dbq.VulnCriticalOpenedParams{At: now.Truncate(time.Microsecond), HostID: hostID})
	if err != nil {
		return 0, pg.Translate(err)
	}
	raised, err := raiseCritical(ctx, tx, rows, now)
	if err != nil {
		return raised, err
	}
	_, err = resolveStale(ctx, tx, aw, hostID, now)
	return raised, err
}

func raiseCritical(ctx context.Context, tx pgx.Tx, rows []dbq.VulnCriticalOpenedRow, now time.Time) (int, error) {
	n := 0
	for _, r := range rows {
		host := r.HostID
		name := r.AdvisoryID
		if len(r.Aliases) > 0 {
			name = fmt.Sprintf("%s (%s)", r.AdvisoryID, strings.Join(r.Aliases[:min(len(r.Aliases), 3)], ", "))
		}
		tags := map[string]any{"advisory_id": r.AdvisoryID, "aliases": nonNil(r.Aliases), "package": r.Package}
		if r.CvssScore != nil {
			tags["cvss_score"] = *r.CvssScore
		}
		if r.FixedVersion != nil {
			tags["fixed_version"] = *r.FixedVersion
		}
		res, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: criticalKey(host, r.AdvisoryID), AlertType: AlertCritical,
			Severity: "critical", HostID: &host, Title: fmt.Sprintf("Critical vulnerability %s on %s", name, r.Hostname),
			Body: r.Summary, Tags: tags, At: now})
		if err != nil {
			return n, err
		}
		if res.New {
			n++
		}
	}
	return n, nil
}

// ResolveStaleCriticalTx resolves, inside the caller's transaction and audited as the
// system, every live vulnerability_critical alert whose exposure is resolved, excepted by
// an exception in force, or no longer critical. It returns how many it resolved.
func ResolveStaleCriticalTx(ctx context.Context, tx pgx.Tx, aw *audit.Writer, now time.Time) (int, error) {
	return resolveStale(ctx, tx, aw, nil, now)
}

// resolveStale is ResolveStaleCriticalTx for one host's alerts (hostID) or every host's.
func resolveStale(ctx context.Context, tx pgx.Tx, aw *audit.Writer, hostID *uuid.UUID, now time.Time) (int, error) {
	keys, err := dbq.New(tx).VulnCriticalAlertsStale(ctx, hostID)
	if err != nil {
		return 0, pg.Translate(err)
	}
	n := 0
	for _, k := range keys {
		done, err := alert.AutoResolveTx(ctx, tx, aw, k, now)
		if err != nil {
			return n, err
		}
		n += len(done)
	}
	return n, nil
}

// ExceptionEndedTx raises, inside the caller's transaction, a vulnerability_critical
// alert for each open critical exposure that a vulnerability exception of subject (an
// advisory id or alias) and scope covered and that no other exception in force excepts:
// the exception was revoked or expired, so the exposure counts again. It returns how many
// alerts it raised.
func ExceptionEndedTx(ctx context.Context, tx pgx.Tx, subject, scope string, hostID, groupID *uuid.UUID, now time.Time) (int, error) {
	q := dbq.New(tx)
	pairs, err := q.VulnCriticalCovered(ctx, dbq.VulnCriticalCoveredParams{Subject: subject, Scope: scope, HostID: hostID, GroupID: groupID})
	if err != nil || len(pairs) == 0 {
		return 0, pg.Translate(err)
	}
	hosts := make([]uuid.UUID, len(pairs))
	ids := make([]string, len(pairs))
	for i, p := range pairs {
		hosts[i], ids[i] = p.HostID, p.AdvisoryID
	}
	rows, err := q.VulnCriticalToAlert(ctx, dbq.VulnCriticalToAlertParams{HostIds: hosts, AdvisoryIds: ids})
	if err != nil {
		return 0, pg.Translate(err)
	}
	opened := make([]dbq.VulnCriticalOpenedRow, len(rows))
	for i, r := range rows {
		opened[i] = dbq.VulnCriticalOpenedRow(r)
	}
	return raiseCritical(ctx, tx, opened, now)
}
