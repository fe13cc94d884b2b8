package change

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
)

// RulePlanner is the part of a remediation planner that plans at the level of rules,
// before any host is probed: for each rule, its implementations and their actions or
// guidance. Unknown rule ids are a validation error naming rule_ids.
type RulePlanner interface {
	RulePlan(ctx context.Context, ruleIDs []string) ([]api.RemediationPlanRule, error)
}

func (s *Service) rulePlan(ctx context.Context, ruleIDs []string) ([]api.RemediationPlanRule, error) {
	rp, ok := s.planners[KindRemediation].(RulePlanner)
	if !ok {
		return nil, apperr.Invalid("rule_ids", "Remediation is not available.")
	}
	return rp.RulePlan(ctx, ruleIDs)
}

// Plan returns a remediation's plan: the rule-level plan stored with the request, and each
// host with the exact actions its probe fixed. Guarded by remediation:read.
func (s *Service) Plan(ctx context.Context, id uuid.UUID) (api.RemediationPlan, error) {
	j, err := s.Get(ctx, KindRemediation, id)
	if err != nil {
		return api.RemediationPlan{}, err
	}
	out := api.RemediationPlan{RequestId: j.ID, Rules: []api.RemediationPlanRule{}, Hosts: []api.ChangeJobHost{}}
	_ = unmarshalLoose(j.Plan, &out.Rules)
	hosts, err := s.Hosts(ctx, KindRemediation, id)
	if err != nil {
		return api.RemediationPlan{}, err
	}
	for _, h := range hosts {
		out.Hosts = append(out.Hosts, toAPIHost(h))
	}
	return out, nil
}
