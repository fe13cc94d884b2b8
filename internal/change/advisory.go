package change

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/scan"
)

// VulnExceptedFunc says which of hosts an approved, unexpired exception of one of the
// advisories covers (on the host, its group or the fleet); the app wires
// vuln.Service.ExceptedHosts. A nil Deps.VulnExcepted excepts no host.
type VulnExceptedFunc func(ctx context.Context, advisoryIDs []string, hosts []uuid.UUID) (map[uuid.UUID]bool, error)

// The reasons an exposed host is left out of an advisory's patch job.
const (
	ExcludedNoFix    = "no_fix"
	ExcludedExcepted = "excepted"
)

// AdvisoryPackage is one exposure of a host: an affected (source) package, its binary
// packages installed on the host and the versions.
type AdvisoryPackage struct {
	AdvisoryID       string
	Package          string
	Binaries         []string
	InstalledVersion string
	FixedVersion     *string
}

// AdvisoryHost is a host of an advisory's patch plan, with its exposures (a targeted host:
// those with a fix) or the reason it is left out.
type AdvisoryHost struct {
	ID       uuid.UUID
	Name     string
	Reason   string
	Packages []AdvisoryPackage
}

// AdvisoryPlan is what a patch job from an advisory changes: the hosts, the binary
// packages upgraded, and the exposed hosts left out.
type AdvisoryPlan struct {
	Name        string
	AdvisoryIDs []string
	Hosts       []AdvisoryHost
	Packages    []string
	Excluded    []AdvisoryHost
}

// AdvisoryPlan works out the patch job of an advisory named by id or alias: the live hosts
// with an open exposure whose fix is installable (the record names a fixed version above
// the installed one) and no exception, and on them the installed binary packages of the
// exposures with a fix. Guarded by vulnerability:read. Errors: resource.not_found for a
// name no imported advisory has.
func (s *Service) AdvisoryPlan(ctx context.Context, name string) (AdvisoryPlan, error) {
	ids, err := s.q.ChangeAdvisoryIDs(ctx, name)
	if err != nil {
		return AdvisoryPlan{}, pg.Translate(err)
	}
	if len(ids) == 0 {
		return AdvisoryPlan{}, apperr.NotFound("No imported advisory has this id or alias.")
	}
	rows, err := s.q.ChangeAdvisoryExposures(ctx, ids)
	if err != nil {
		return AdvisoryPlan{}, pg.Translate(err)
	}
	var hosts []AdvisoryHost
	for _, r := range rows {
		if n := len(hosts); n == 0 || hosts[n-1].ID != r.HostID {
			hn := r.Hostname
			if r.DisplayName != "" {
				hn = r.DisplayName
			}
			hosts = append(hosts, AdvisoryHost{ID: r.HostID, Name: hn})
		}
		h := &hosts[len(hosts)-1]
		h.Packages = append(h.Packages, AdvisoryPackage{AdvisoryID: r.AdvisoryID, Package: r.Package, Binaries: nonNilS(r.Binaries),
			InstalledVersion: r.InstalledVersion, FixedVersion: r.FixedVersion})
	}
	excepted := map[uuid.UUID]bool{}
	if s.vulnExcepted != nil && len(hosts) > 0 {
		hostIDs := make([]uuid.UUID, len(hosts))
		for i, h := range hosts {
			hostIDs[i] = h.ID
		}
		if excepted, err = s.vulnExcepted(ctx, ids, hostIDs); err != nil {
			return AdvisoryPlan{}, err
		}
	}
	plan := AdvisoryPlan{Name: name, AdvisoryIDs: ids, Hosts: []AdvisoryHost{}, Packages: []string{}, Excluded: []AdvisoryHost{}}
	seen := map[string]bool{}
	for _, h := range hosts {
		if excepted[h.ID] {
			h.Reason = ExcludedExcepted
			plan.Excluded = append(plan.Excluded, h)
			continue
		}
		fixable := h.Packages[:0:0]
		for _, p := range h.Packages {
			if p.FixedVersion != nil && len(p.Binaries) > 0 {
				fixable = append(fixable, p)
			}
		}
		if len(fixable) == 0 {
			h.Reason = ExcludedNoFix
			plan.Excluded = append(plan.Excluded, h)
			continue
		}
		h.Packages = fixable
		plan.Hosts = append(plan.Hosts, h)
		for _, p := range fixable {
			for _, b := range p.Binaries {
				if !seen[b] {
					seen[b] = true
					plan.Packages = append(plan.Packages, b)
				}
			}
		}
	}
	slices.Sort(plan.Packages)
	return plan, nil
}

// AdvisoryJob is how a patch job from an advisory is rolled out (the hosts and packages
// come from its plan).
type AdvisoryJob struct {
	Name              string
	Canary            int
	CanaryPercent     *int32
	Growth            int
	MaxFailures       *int32
	MaxFailurePercent *int32
	HealthCheckIDs    []uuid.UUID
	Reboot            string
	IgnoreWindows     bool
	OverrideReason    string
	Reason            string
}

// CreateFromAdvisory creates the patch job of an advisory's plan through Create (approval,
// windows, waves, budget, health checks and reboot as any patch job): the plan's hosts by
// id, mode packages with an upgrade (to the newest available version) of each planned
// binary package; a host upgrades those of them it has installed. The advisory ids lead
// the job's reason and are in its audit event. Guarded by patch:request and
// vulnerability:read. Errors: resource.not_found for an unknown advisory; resource.conflict
// when no host is affected with an installable fix and no exception; validation_failed
// (more packages than a patch job names, and those of Create); permission_denied.
func (s *Service) CreateFromAdvisory(ctx context.Context, actor *authz.Principal, name string, j AdvisoryJob) (Job, error) {
	if actor != nil && !actor.Can(authz.PermVulnRead) {
		return Job{}, apperr.New(apperr.CodePermissionDenied, "A patch job from an advisory needs the vulnerability:read permission.").
			WithDetail("required_permission", authz.PermVulnRead)
	}
	plan, err := s.AdvisoryPlan(ctx, name)
	if err != nil {
		return Job{}, err
	}
	if len(plan.Hosts) == 0 {
		return Job{}, apperr.Conflict("No live host is exposed to this advisory with an installable fix and no exception: there is nothing to patch.").
			WithDetail("excluded", len(plan.Excluded))
	}
	// The patch planner's spec (package patch imports this one): mode packages, one
	// upgrade per binary package; the planner validates it (at most 200 packages).
	spec := advisorySpec{Mode: "packages"}
	for _, p := range plan.Packages {
		spec.Packages = append(spec.Packages, advisoryOp{Name: p, Op: "upgrade"})
	}
	ids := make([]uuid.UUID, len(plan.Hosts))
	for i, h := range plan.Hosts {
		ids[i] = h.ID
	}
	reason := "Advisory " + strings.Join(plan.AdvisoryIDs, ", ")
	if plan.Name != plan.AdvisoryIDs[0] || len(plan.AdvisoryIDs) > 1 {
		reason += " (" + plan.Name + ")"
	}
	if r := strings.TrimSpace(j.Reason); r != "" {
		reason += ": " + r
	}
	jobName := j.Name
	if strings.TrimSpace(jobName) == "" {
		noun := "hosts"
		if len(ids) == 1 {
			noun = "host"
		}
		jobName = fmt.Sprintf("Patch %s on %d %s", plan.Name, len(ids), noun)
	}
	return s.Create(ctx, actor, Request{Kind: KindPatch, Name: jobName, Selector: scan.Selector{HostIDs: ids}, Spec: spec,
		Canary: j.Canary, CanaryPercent: j.CanaryPercent, Growth: j.Growth, MaxFailures: j.MaxFailures,
		MaxFailurePercent: j.MaxFailurePercent, HealthCheckIDs: j.HealthCheckIDs, Reboot: j.Reboot, IgnoreWindows: j.IgnoreWindows,
		OverrideReason: j.OverrideReason, Reason: reason, Advisories: plan.AdvisoryIDs})
}

// advisorySpec and advisoryOp are the JSON form of a patch.Spec of named operations.
type advisorySpec struct {
	Mode     string       `json:"mode"`
	Packages []advisoryOp `json:"packages"`
}

type advisoryOp struct {
	Name string `json:"name"`
	Op   string `json:"op"`
}

// advisoryDetail is the audit detail of a job from advisories.
func advisoryDetail(detail map[string]any, ids []string) {
	if len(ids) > 0 {
		detail["advisory_ids"] = ids
	}
}
