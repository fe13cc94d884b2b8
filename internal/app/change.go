package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/planners"
	"github.com/openwatch/openwatch/internal/health"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/sshx"
)

// changePlanners returns the planners of change jobs: the tests' when given.
func changePlanners(d Deps, scans *scan.Service) map[string]change.Planner {
	if d.ChangePlanners != nil {
		return d.ChangePlanners
	}
	return map[string]change.Planner{change.KindPatch: planners.Patch{},
		change.KindRemediation: planners.Remediation{Rules: scans.Catalog(), Variables: scans}}
}

// changeHealth returns the source of change jobs' health checks: the tests' when given.
func changeHealth(d Deps, checks *health.Service) change.HealthSource {
	if d.ChangeHealth != nil {
		return d.ChangeHealth
	}
	return healthChecks{svc: checks}
}

// healthChecks gives change jobs the health checks of internal/health.
type healthChecks struct{ svc *health.Service }

func (h healthChecks) Checks(ctx context.Context, ids []uuid.UUID) ([]change.HealthCheck, error) {
	checks, err := h.svc.ListByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	found := make(map[uuid.UUID]health.Check, len(checks))
	for _, c := range checks {
		found[c.ID] = c
	}
	out := make([]change.HealthCheck, 0, len(ids))
	for _, id := range ids {
		c, ok := found[id]
		switch {
		case !ok:
			return nil, apperr.Invalid("health_check_ids", fmt.Sprintf("There is no health check %s.", id)).WithDetail("health_check_id", id.String())
		case !c.Enabled:
			return nil, apperr.Invalid("health_check_ids", fmt.Sprintf("The health check %q is disabled.", c.Name)).WithDetail("health_check_id", id.String())
		}
		out = append(out, change.HealthCheck{ID: c.ID, Name: c.Name, Command: health.Command(c),
			Evaluate: func(r sshx.Result) (bool, string) {
				o := health.Evaluate(c, r)
				return o.OK, o.Detail
			}})
	}
	return out, nil
}
