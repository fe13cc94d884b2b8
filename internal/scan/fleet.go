package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg"
)

// framework resolves the framework parameter of a read: "all" when absent, 400 naming
// field when unknown.
func (s *Service) framework(field string, id *string) (*Framework, error) {
	name := FrameworkAll
	if id != nil && *id != "" {
		name = *id
	}
	f, ok := s.cat.Framework(name)
	if !ok {
		return nil, apperr.Invalid(field, fmt.Sprintf("Unknown framework %q; GET /compliance/frameworks lists them.", name))
	}
	return f, nil
}

func ruleIDsOf(f *Framework) []string {
	ids := make([]string, len(f.Rules))
	for i, r := range f.Rules {
		ids[i] = r.ID
	}
	return ids
}

// Totals are results counted by status. Excepted results (fails an exception accepts)
// are neither pass nor fail.
type Totals struct {
	Pass, Fail, Skipped, Error, Excepted int64
}

// PassingFraction is the one score formula: pass / (pass + fail), 0 without either;
// excepted results count in neither.
func (t Totals) PassingFraction() float64 {
	if t.Pass+t.Fail == 0 {
		return 0
	}
	return float64(t.Pass) / float64(t.Pass+t.Fail)
}

// FleetTotals returns the fleet's results of a framework, now or as of an instant.
func (s *Service) FleetTotals(ctx context.Context, framework *string, asOf *time.Time) (Totals, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return Totals{}, err
	}
	if asOf == nil {
		v, err := s.fleet.load(ctx, "score "+f.ID, func() (any, error) { return s.fleetTotals(ctx, f, nil) })
		if err != nil {
			return Totals{}, err
		}
		return v.(Totals), nil
	}
	return s.fleetTotals(ctx, f, asOf)
}

func (s *Service) fleetTotals(ctx context.Context, f *Framework, asOf *time.Time) (Totals, error) {
	if asOf != nil {
		r, err := s.q.FleetComplianceTotalsAt(ctx, dbq.FleetComplianceTotalsAtParams{Framework: f.ID, At: *asOf})
		return Totals{r.Pass, r.Fail, r.Skipped, r.Errors, r.Excepted}, pg.Translate(err)
	}
	r, err := s.q.FleetComplianceTotals(ctx, f.ID)
	return Totals{r.Pass, r.Fail, r.Skipped, r.Errors, r.Excepted}, pg.Translate(err)
}

// RuleFailure is a rule and the number of hosts it fails on.
type RuleFailure struct {
	RuleID string
	Hosts  int64
}

// TopFailingRules ranks a framework's rules by failing hosts, now or as of an instant.
func (s *Service) TopFailingRules(ctx context.Context, framework *string, limit int32, asOf *time.Time) ([]RuleFailure, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return nil, err
	}
	if asOf == nil {
		v, err := s.fleet.load(ctx, fmt.Sprintf("rules %s %d", f.ID, limit), func() (any, error) { return s.topFailingRules(ctx, f, limit, nil) })
		if err != nil {
			return nil, err
		}
		return v.([]RuleFailure), nil
	}
	return s.topFailingRules(ctx, f, limit, asOf)
}

func (s *Service) topFailingRules(ctx context.Context, f *Framework, limit int32, asOf *time.Time) ([]RuleFailure, error) {
	ids := ruleIDsOf(f)
	var out []RuleFailure
	if asOf != nil {
		rows, err := s.q.FleetTopFailingRulesAt(ctx, dbq.FleetTopFailingRulesAtParams{RuleIds: ids, At: *asOf, RowLimit: limit})
		for _, r := range rows {
			out = append(out, RuleFailure{r.RuleID, r.FailHosts})
		}
		return out, pg.Translate(err)
	}
	rows, err := s.q.FleetTopFailingRules(ctx, dbq.FleetTopFailingRulesParams{RuleIds: ids, RowLimit: limit})
	for _, r := range rows {
		out = append(out, RuleFailure{r.RuleID, int64(r.FailHosts)})
	}
	return out, pg.Translate(err)
}

// HostFailure is a host and the number of rules it fails.
type HostFailure struct {
	HostID uuid.UUID
	Rules  int64
}

// TopFailingHosts ranks live hosts by failing rules of a framework, now or as of an
// instant.
func (s *Service) TopFailingHosts(ctx context.Context, framework *string, limit int32, asOf *time.Time) ([]HostFailure, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return nil, err
	}
	if asOf == nil {
		v, err := s.fleet.load(ctx, fmt.Sprintf("hosts %s %d", f.ID, limit), func() (any, error) { return s.topFailingHosts(ctx, f, limit, nil) })
		if err != nil {
			return nil, err
		}
		return v.([]HostFailure), nil
	}
	return s.topFailingHosts(ctx, f, limit, asOf)
}

func (s *Service) topFailingHosts(ctx context.Context, f *Framework, limit int32, asOf *time.Time) ([]HostFailure, error) {
	var out []HostFailure
	if asOf != nil {
		rows, err := s.q.FleetTopFailingHostsAt(ctx, dbq.FleetTopFailingHostsAtParams{Framework: f.ID, At: *asOf, RowLimit: limit})
		for _, r := range rows {
			out = append(out, HostFailure{r.HostID, int64(r.FailCount)})
		}
		return out, pg.Translate(err)
	}
	rows, err := s.q.FleetTopFailingHosts(ctx, dbq.FleetTopFailingHostsParams{Framework: f.ID, RowLimit: limit})
	for _, r := range rows {
		out = append(out, HostFailure{r.HostID, int64(r.FailCount)})
	}
	return out, pg.Translate(err)
}

// RecentChanges returns the change feed of a framework's rules, newest first.
func (s *Service) RecentChanges(ctx context.Context, framework *string, since, asOf *time.Time, limit int32) ([]dbq.FleetRecentChangesRow, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return nil, err
	}
	p := dbq.FleetRecentChangesParams{Since: time.Unix(0, 0), Until: s.now().Add(time.Hour), RowLimit: limit}
	if since != nil {
		p.Since = *since
	}
	if asOf != nil {
		p.Until = *asOf
	}
	if f.ID != FrameworkAll {
		p.RuleIds = ruleIDsOf(f)
	}
	read := func() (any, error) {
		rows, err := s.q.FleetRecentChanges(ctx, p)
		return rows, pg.Translate(err)
	}
	if since != nil || asOf != nil {
		rows, err := read()
		return rows.([]dbq.FleetRecentChangesRow), err
	}
	v, err := s.fleet.load(ctx, fmt.Sprintf("changes %s %d", f.ID, limit), read)
	if err != nil {
		return nil, err
	}
	return v.([]dbq.FleetRecentChangesRow), nil
}

// HostCompliance returns a host's rollup for a framework (host.ComplianceReader).
func (s *Service) HostCompliance(ctx context.Context, hostID uuid.UUID, framework string) (host.Compliance, error) {
	f, err := s.framework("framework", &framework)
	if err != nil {
		return host.Compliance{}, err
	}
	r, err := s.q.HostComplianceGet(ctx, dbq.HostComplianceGetParams{HostID: hostID, Framework: f.ID})
	if err != nil {
		return host.Compliance{}, pg.IgnoreNotFound(err)
	}
	return host.Compliance{Pass: int(r.PassCount), Fail: int(r.FailCount), Skipped: int(r.SkippedCount), Error: int(r.ErrorCount),
		CriticalFailing: int(r.CriticalFailing), Excepted: int(r.ExceptedCount)}, nil
}
