package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/planners"
	"github.com/openwatch/openwatch/internal/scan"
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
func changeHealth(d Deps) change.HealthSource {
	if d.ChangeHealth != nil {
		return d.ChangeHealth
	}
	return noHealthChecks{}
}

type noHealthChecks struct{}

func (noHealthChecks) Checks(context.Context, []uuid.UUID) ([]change.HealthCheck, error) {
	return nil, apperr.Invalid("health_check_ids", "There is no such health check.")
}
