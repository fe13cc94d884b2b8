package alert

import (
	"encoding/json"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

// toAPIAlert renders an alert; the occurrence count, the last occurrence and the
// suppressed flag travel in tags (the contract's Alert has no fields of their own).
func toAPIAlert(a dbq.Alert) api.Alert {
	tags := map[string]any{}
	if len(a.Tags) > 0 {
		_ = json.Unmarshal(a.Tags, &tags)
	}
	tags["occurrence_count"] = a.OccurrenceCount
	tags["last_occurred_at"] = a.LastOccurredAt
	tags["suppressed"] = a.Suppressed
	created, updated := a.CreatedAt, a.UpdatedAt
	body := a.Body
	return api.Alert{
		Id: a.ID, DedupKey: a.DedupKey, AlertType: a.AlertType, Severity: api.Severity(a.Severity),
		HostId: a.HostID, RuleId: a.RuleID, Title: a.Title, Body: &body, Tags: &tags,
		State: api.AlertState(a.State), OccurredAt: a.OccurredAt,
		AcknowledgedBy: a.AcknowledgedBy, AcknowledgedAt: a.AcknowledgedAt,
		SilencedBy: a.SilencedBy, SilencedUntil: a.SilencedUntil,
		ResolvedBy: a.ResolvedBy, ResolvedAt: a.ResolvedAt,
		DismissedBy: a.DismissedBy, DismissedAt: a.DismissedAt,
		CreatedAt: &created, UpdatedAt: &updated,
	}
}

// toAPITransition renders one entry of an alert's history.
func toAPITransition(t dbq.AlertTransition) api.AlertTransition {
	return api.AlertTransition{Id: t.ID, AlertId: t.AlertID, Transition: api.AlertTransitionTransition(t.Transition),
		Actor: t.Actor, Reason: t.Reason, At: t.At, NotifiedAt: t.NotifiedAt}
}
