package oscal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
)

// apiBase prefixes the API paths our documents link to (evidence, exceptions, the plan).
const apiBase = "/api/v1"

// Scans reads completed scans; *scan.Service implements it.
type Scans interface {
	Completed(ctx context.Context, id uuid.UUID) (dbq.Scan, []scan.Result, error)
}

// Rules looks rules up; *scan.Catalog implements it.
type Rules interface {
	Rule(id string) (*rule.Rule, bool)
}

// Hosts reads live hosts; *host.Service implements it.
type Hosts interface {
	Get(ctx context.Context, id uuid.UUID) (host.Host, error)
}

// Exceptions reads exceptions; *exception.Service implements it.
type Exceptions interface {
	Get(ctx context.Context, id uuid.UUID) (dbq.ComplianceException, error)
}

// Service exports scans as OSCAL documents.
type Service struct {
	scans      Scans
	rules      Rules
	hosts      Hosts
	exceptions Exceptions
}

// NewService returns the service.
func NewService(scans Scans, rules Rules, hosts Hosts, exceptions Exceptions) *Service {
	return &Service{scans: scans, rules: rules, hosts: hosts, exceptions: exceptions}
}

// ScanResults returns the assessment-results document of a completed scan, or of one rule's
// result in it when ruleID is not empty. Guarded by scan:read. Errors: resource.not_found
// for an unknown scan or a rule the scan has no result for, conflict while the scan has not
// completed.
func (s *Service) ScanResults(ctx context.Context, id uuid.UUID, ruleID string) ([]byte, error) {
	a, err := s.ScanAssessment(ctx, id, ruleID)
	if err != nil {
		return nil, err
	}
	return AssessmentResults(ctx, a)
}

// ScanPlan returns the assessment-plan document a completed scan's results import. Guarded
// by scan:read. Errors as ScanResults.
func (s *Service) ScanPlan(ctx context.Context, id uuid.UUID) ([]byte, error) {
	a, err := s.ScanAssessment(ctx, id, "")
	if err != nil {
		return nil, err
	}
	return AssessmentPlan(ctx, a)
}

// ScanAssessment returns a completed scan (or one rule's result in it) in the plain form of
// AssessmentResults. Errors as ScanResults.
func (s *Service) ScanAssessment(ctx context.Context, id uuid.UUID, ruleID string) (Assessment, error) {
	sc, results, err := s.scans.Completed(ctx, id)
	if err != nil {
		return Assessment{}, err
	}
	h := Host{ID: sc.HostID, OSFamily: sc.OsFamily, OSVersion: sc.OsVersion}
	switch row, err := s.hosts.Get(ctx, sc.HostID); {
	case err == nil:
		h.Hostname, h.Address = row.Hostname, row.IpAddress.String()
	case !apperr.Is(err, apperr.CodeNotFound): // a deleted host keeps its id
		return Assessment{}, err
	}
	a := Assessment{Kind: "scan", ID: sc.ID, LastModified: *sc.FinishedAt,
		Title:    "Compliance scan of " + h.name(),
		PlanHref: fmt.Sprintf("%s/scans/%s/oscal/assessment-plan", apiBase, sc.ID)}
	hr := HostResult{ID: sc.ID, Host: h, End: *sc.FinishedAt, Start: sc.CreatedAt}
	if sc.StartedAt != nil {
		hr.Start = *sc.StartedAt
	}
	if ruleID != "" {
		a.Scope = "rule/" + ruleID
		a.Title = fmt.Sprintf("Rule %s in the compliance scan of %s", ruleID, h.name())
	}
	for _, r := range results {
		if ruleID != "" && r.RuleID != ruleID {
			continue
		}
		rr, err := s.ruleResult(ctx, sc.ID, r)
		if err != nil {
			return Assessment{}, err
		}
		hr.Rules = append(hr.Rules, rr)
	}
	if ruleID != "" && len(hr.Rules) == 0 {
		return Assessment{}, apperr.NotFound("The scan has no result for this rule.")
	}
	a.Results = []HostResult{hr}
	return a, nil
}

func (s *Service) ruleResult(ctx context.Context, scanID uuid.UUID, r scan.Result) (RuleResult, error) {
	rr := RuleResult{RuleID: r.RuleID, Title: r.Title, Severity: r.Severity, Status: r.Status, Reason: r.Reason,
		EvidenceHref: fmt.Sprintf("%s/scans/%s/rules/%s/evidence", apiBase, scanID, r.RuleID)}
	if ru, ok := s.rules.Rule(r.RuleID); ok {
		rr.References = ru.References
	}
	if r.ExceptionID != nil {
		ex := &Exception{ID: *r.ExceptionID, Href: fmt.Sprintf("%s/exceptions/%s", apiBase, *r.ExceptionID)}
		row, err := s.exceptions.Get(ctx, *r.ExceptionID)
		if err != nil {
			return RuleResult{}, fmt.Errorf("read exception of %s: %w", r.RuleID, err)
		}
		ex.ExpiresAt = row.ExpiresAt
		// The justification is the exception's: only a reader of exceptions sees it.
		if p := authz.PrincipalFrom(ctx); p == nil || p.Can(authz.PermExceptionRead) {
			ex.Reason = row.Reason
		} else {
			ex.Reason = "The justification of the exception is shown to readers of exceptions only."
		}
		if row.DecidedBy != nil {
			ex.ApprovedBy = *row.DecidedBy
		}
		rr.Exception = ex
	}
	return rr, nil
}

// FleetAssessment returns the assessment of a group of completed scans (a batch, a
// fleet-wide run) in the plain form of AssessmentResults: one result per host, its latest
// scan among scanIDs when it has several. kind and id name the group (every identifier
// derives from them); planHref is the plan the results import (AssessmentPlan of the same
// assessment). Guarded by scan:read. Errors: invalid for an empty group, as ScanResults for
// each scan.
func (s *Service) FleetAssessment(ctx context.Context, kind string, id uuid.UUID, title, planHref string, scanIDs []uuid.UUID) (Assessment, error) {
	if len(scanIDs) == 0 {
		return Assessment{}, apperr.Invalid("scan_ids", "Name at least one scan.")
	}
	a := Assessment{Kind: kind, ID: id, Title: title, PlanHref: planHref}
	byHost := map[uuid.UUID]int{}
	for _, scanID := range scanIDs {
		one, err := s.ScanAssessment(ctx, scanID, "")
		if err != nil {
			return Assessment{}, err
		}
		hr := one.Results[0]
		if one.LastModified.After(a.LastModified) {
			a.LastModified = one.LastModified
		}
		i, seen := byHost[hr.Host.ID]
		switch {
		case !seen:
			byHost[hr.Host.ID] = len(a.Results)
			a.Results = append(a.Results, hr)
		case hr.End.After(a.Results[i].End):
			a.Results[i] = hr
		}
	}
	slices.SortFunc(a.Results, func(x, y HostResult) int {
		if c := strings.Compare(x.Host.name(), y.Host.name()); c != 0 {
			return c
		}
		return strings.Compare(x.Host.ID.String(), y.Host.ID.String())
	})
	if a.Title == "" {
		a.Title = fmt.Sprintf("Compliance scans of %d hosts", len(a.Results))
	}
	return a, nil
}
