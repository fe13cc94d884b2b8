package planners

import (
	"context"
	"fmt"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/remedy"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Rules is the corpus and the installation's site variables (scan.Service and its
// Catalog).
type Rules interface {
	Rule(id string) (*rule.Rule, bool)
}

// Variables returns the installation's site variable values.
type Variables interface {
	SiteVariables(ctx context.Context) (map[string]string, error)
}

// Remediation plans remediation requests: the host's capabilities (probed in the job's
// first session, as a scan probes them) pick each failing rule's implementation, whose
// mechanism becomes actions, or guidance when it is manual.
type Remediation struct {
	Rules     Rules
	Variables Variables
}

// Probe reads the host's capabilities.
func (Remediation) Probe(dbq.ChangeJob) []sshx.Command {
	return []sshx.Command{engine.CapabilityCommand()}
}

// Plan builds the actions of the host's failing rules of the request.
func (p Remediation) Plan(ctx context.Context, _ dbq.ChangeJob, host dbq.ChangeJobHost, probe sshx.BatchResult) (change.Planned, error) {
	res, ok := probe.Result(engine.CapabilityCommand().Name)
	if !ok || !res.OK() {
		return change.Planned{}, fmt.Errorf("the host's capabilities could not be read")
	}
	caps := engine.ParseCapabilities(res.Stdout)
	vars, err := p.Variables.SiteVariables(ctx)
	if err != nil {
		return change.Planned{}, err
	}
	var out change.Planned
	for _, id := range host.RuleIds {
		r, ok := p.Rules.Rule(id)
		if !ok {
			out.Manual = append(out.Manual, change.Manual{RuleID: id, Mechanism: "unknown",
				Guidance: "The rule is no longer in the corpus."})
			continue
		}
		impl := remedy.Select(r, caps)
		if impl == nil {
			out.Manual = append(out.Manual, change.Manual{RuleID: id, Mechanism: "none",
				Guidance: "No implementation of the rule applies to this host."})
			continue
		}
		plan, err := remedy.Build(r, impl, vars)
		if err != nil {
			out.Manual = append(out.Manual, change.Manual{RuleID: id, Mechanism: mechanism(impl), Guidance: err.Error()})
			continue
		}
		if plan.Manual {
			out.Manual = append(out.Manual, change.Manual{RuleID: id, Mechanism: plan.Mechanism, Guidance: plan.Guidance})
			continue
		}
		for _, a := range plan.Actions {
			a.RuleID = id
			out.Actions = append(out.Actions, a)
		}
	}
	return out, nil
}

func mechanism(impl *rule.Implementation) string {
	if len(impl.Remediation) == 0 {
		return "manual"
	}
	return impl.Remediation[0]
}

// RulePlan is the plan of rules before any host is probed: per rule, each implementation
// (and the capability it needs) with its actions or guidance. Unknown ids are a
// validation error naming rule_ids.
func (p Remediation) RulePlan(ctx context.Context, ruleIDs []string) ([]api.RemediationPlanRule, error) {
	vars, err := p.Variables.SiteVariables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.RemediationPlanRule, 0, len(ruleIDs))
	seen := map[string]bool{}
	for _, id := range ruleIDs {
		if seen[id] {
			return nil, apperr.Invalid("rule_ids", fmt.Sprintf("Rule %s is named twice.", id))
		}
		seen[id] = true
		r, ok := p.Rules.Rule(id)
		if !ok {
			return nil, apperr.Invalid("rule_ids", fmt.Sprintf("There is no rule %s.", id)).WithDetail("rule_id", id)
		}
		pr := api.RemediationPlanRule{RuleId: id, Title: r.Title, Severity: string(r.Severity), Automatic: true,
			Implementations: []api.RemediationPlanImplementation{}}
		for i := range r.Implementations {
			impl := &r.Implementations[i]
			pi := api.RemediationPlanImplementation{Mechanism: mechanism(impl), Actions: []api.ChangeActionSummary{}}
			if impl.When != nil {
				w := impl.When.String()
				pi.When = &w
			}
			plan, err := remedy.Build(r, impl, vars)
			switch {
			case err != nil:
				g := err.Error()
				pi.Guidance = &g
			case plan.Manual:
				g := plan.Guidance
				pi.Guidance = &g
				pi.Mechanism = plan.Mechanism
			default:
				pi.Automatic = true
				pi.Mechanism = plan.Mechanism
				for _, a := range plan.Actions {
					pi.Actions = append(pi.Actions, api.ChangeActionSummary{Kind: a.Kind, Summary: a.Summary, Target: a.Target})
				}
			}
			pr.Automatic = pr.Automatic && pi.Automatic
			pr.Implementations = append(pr.Implementations, pi)
		}
		out = append(out, pr)
	}
	return out, nil
}
