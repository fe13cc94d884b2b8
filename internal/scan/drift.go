package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/engine"
)

// AlertComplianceDrift is the alert_type raised when a rule goes from pass to fail on a
// host.
const AlertComplianceDrift = "compliance_drift"

// driftKey is the dedup key of the drift alert of a rule on a host.
func driftKey(row dbq.Scan, ruleID string) string {
	return AlertComplianceDrift + ":" + row.HostID.String() + ":" + ruleID
}

// raiseDrift keeps the drift alerts of a finished scan in step with its changes, in the
// scan's transaction: a rule that went pass → fail raises (or recurs) the host+rule alert
// with the rule's severity and the scan in its tags; a rule that passes again resolves it.
func (s *Service) raiseDrift(ctx context.Context, tx pgx.Tx, row dbq.Scan, changes []change, now time.Time) error {
	for _, c := range changes {
		if c.Kind != KindStateChanged {
			continue
		}
		switch {
		case c.PrevStatus == string(engine.StatusPass) && c.Status == string(engine.StatusFail):
			title := c.RuleID
			if r, ok := s.cat.Rule(c.RuleID); ok && r.Title != "" {
				title = r.Title
			}
			hostID, ruleID := row.HostID, c.RuleID
			_, err := alert.RaiseTx(ctx, tx, alert.Raise{
				DedupKey: driftKey(row, c.RuleID), AlertType: AlertComplianceDrift, Severity: c.Severity,
				HostID: &hostID, RuleID: &ruleID, Title: fmt.Sprintf("Compliance drift: %s", title), Body: c.Reason,
				Tags: map[string]any{"scan_id": row.ID, "previous_status": c.PrevStatus, "status": c.Status},
				At:   now,
			})
			if err != nil {
				return err
			}
		case c.Status == string(engine.StatusPass):
			if _, err := alert.AutoResolveTx(ctx, tx, s.aw, driftKey(row, c.RuleID), now); err != nil {
				return err
			}
		}
	}
	return nil
}
