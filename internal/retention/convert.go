package retention

import (
	"context"
	"encoding/json"
	"fmt"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

// settings returns the policy (p, or the stored one when nil), its kinds and the last runs.
func (h *Handlers) settings(ctx context.Context, p *dbq.RetentionPolicy) (api.RetentionSettings, error) {
	if p == nil {
		got, err := h.svc.Policy(ctx)
		if err != nil {
			return api.RetentionSettings{}, err
		}
		p = &got
	}
	runs, err := h.svc.Runs(ctx, shownRuns)
	if err != nil {
		return api.RetentionSettings{}, err
	}
	out := api.RetentionSettings{AuditRetention: api.NeverDeleted, Policy: toAPIPolicy(*p),
		Kinds: []api.RetentionKind{}, Runs: make([]api.RetentionRun, 0, len(runs))}
	for _, k := range Kinds() {
		out.Kinds = append(out.Kinds, api.RetentionKind{Id: k.ID, Description: k.Description, Days: k.Days(*p),
			MinimumDays: k.Minimum, DefaultDays: k.Default})
	}
	for _, r := range runs {
		ar, err := toAPIRun(r)
		if err != nil {
			return api.RetentionSettings{}, err
		}
		out.Runs = append(out.Runs, ar)
	}
	return out, nil
}

func toAPIPolicy(p dbq.RetentionPolicy) api.RetentionPolicy {
	return api.RetentionPolicy{EventsDays: int(p.EventsDays), ScanEvidenceDays: int(p.ScanEvidenceDays),
		MonitoringDays: int(p.MonitoringDays), JobsDays: int(p.JobsDays), ChangeJobsDays: int(p.ChangeJobsDays),
		ReportsDays: int(p.ReportsDays), NotificationDeliveriesDays: int(p.NotificationDeliveriesDays),
		UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy}
}

func toAPIRun(r dbq.RetentionRun) (api.RetentionRun, error) {
	deleted := map[string]int64{}
	if err := json.Unmarshal(r.Deleted, &deleted); err != nil {
		return api.RetentionRun{}, fmt.Errorf("decode retention run %s: %w", r.ID, err)
	}
	return api.RetentionRun{Id: r.ID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Status: api.RetentionRunStatus(r.Status), Deleted: deleted, Error: r.Error}, nil
}
