package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/rule"
)

// ListFilter narrows the scan list.
type ListFilter struct {
	HostID, BatchID *uuid.UUID
	Status          *string
	Since           *time.Time
}

// List pages scans newest first.
func (s *Service) List(ctx context.Context, f ListFilter, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.Scan], error) {
	rows, err := s.q.ScanList(ctx, dbq.ScanListParams{HostID: f.HostID, Status: f.Status, BatchID: f.BatchID, Since: f.Since,
		BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.Scan]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r dbq.Scan) uuid.UUID { return r.ID }), nil
}

// Result is a rule's result in a scan.
type Result struct {
	RuleID    string
	Title     string
	Severity  string
	Status    string
	Reason    string
	ChangedAt time.Time
	Hash      []byte
	ScanID    uuid.UUID // the scan that recorded it (this one or an earlier one, unchanged since)
	// ExceptionID names the exception that made a fail excepted.
	ExceptionID *uuid.UUID
}

// ResultFilter narrows a scan's results.
type ResultFilter struct {
	Status, Severity, Framework string
}

// results returns a completed scan's results: for each rule it evaluated, the host's
// result as it stood when the scan finished.
func (s *Service) results(ctx context.Context, sc dbq.Scan, only []string) ([]Result, error) {
	if sc.Status != "completed" || sc.FinishedAt == nil {
		return nil, nil
	}
	ids := only
	if ids == nil {
		rules, err := s.cat.Select(deref(sc.Framework), sc.RuleIds)
		if err != nil {
			rules = s.cat.Rules() // the corpus changed since: whatever the host had
		}
		ids = make([]string, len(rules))
		for i, r := range rules {
			ids[i] = r.ID
		}
	}
	rows, err := s.q.ScanResultsAt(ctx, dbq.ScanResultsAtParams{HostID: sc.HostID, RuleIds: ids, At: *sc.FinishedAt})
	if err != nil {
		return nil, pg.Translate(err)
	}
	out := make([]Result, 0, len(rows))
	for _, r := range rows {
		title := r.RuleID
		if ru, ok := s.cat.Rule(r.RuleID); ok {
			title = ru.Title
		}
		out = append(out, Result{RuleID: r.RuleID, Title: title, Severity: r.Severity, Status: r.Status, Reason: r.Reason,
			ChangedAt: r.OccurredAt, Hash: r.EvidenceHash, ScanID: r.ScanID, ExceptionID: r.ExceptionID})
	}
	return out, nil
}

// Results pages a scan's results by rule id. 400 for an unknown framework.
func (s *Service) Results(ctx context.Context, id uuid.UUID, f ResultFilter, page cursor.Request[string]) (cursor.Page[Result], error) {
	sc, err := s.Get(ctx, id)
	if err != nil {
		return cursor.Page[Result]{}, err
	}
	var inFramework func(string) bool
	if f.Framework != "" {
		fw, ok := s.cat.Framework(f.Framework)
		if !ok {
			return cursor.Page[Result]{}, apperr.Invalid("framework", fmt.Sprintf("Unknown framework %q.", f.Framework))
		}
		set := make(map[string]bool, len(fw.Rules))
		for _, r := range fw.Rules {
			set[r.ID] = true
		}
		inFramework = func(id string) bool { return set[id] }
	}
	all, err := s.results(ctx, sc, nil)
	if err != nil {
		return cursor.Page[Result]{}, err
	}
	var rows []Result
	for _, r := range all { // sorted by rule id (DISTINCT ON orders them)
		switch {
		case f.Status != "" && r.Status != f.Status,
			f.Severity != "" && r.Severity != f.Severity,
			inFramework != nil && !inFramework(r.RuleID),
			page.After != nil && r.RuleID <= *page.After:
			continue
		}
		rows = append(rows, r)
		if len(rows) == int(page.Fetch()) {
			break
		}
	}
	return cursor.Cut(page, rows, func(r Result) string { return r.RuleID }), nil
}

// Evidence is a rule's result in a scan with what was checked.
type Evidence struct {
	Scan     dbq.Scan
	Result   Result
	Evidence *engine.Evidence // nil when no implementation fitted the host
}

// RuleEvidence returns the evidence of a rule's result in a completed scan; 404 when the
// scan has no result for it, or when retention deleted its evidence.
func (s *Service) RuleEvidence(ctx context.Context, id uuid.UUID, ruleID string) (Evidence, error) {
	sc, err := s.Get(ctx, id)
	if err != nil {
		return Evidence{}, err
	}
	notFound := apperr.NotFound("The scan has no result for this rule.")
	if _, ok := s.cat.Rule(ruleID); !ok {
		return Evidence{}, apperr.NotFound("The rule does not exist.")
	}
	rs, err := s.results(ctx, sc, []string{ruleID})
	if err != nil {
		return Evidence{}, err
	}
	if len(rs) == 0 || !s.scanCovers(sc, ruleID) {
		return Evidence{}, notFound
	}
	body, err := s.q.EvidenceGet(ctx, rs[0].Hash)
	if err != nil {
		// The result is history kept without its evidence (ApplyRetention).
		return Evidence{}, pg.NotFoundAs(err, apperr.NotFound("The evidence of this result was deleted by retention."))
	}
	var stored storedEvidence
	if err := json.Unmarshal(body, &stored); err != nil {
		return Evidence{}, fmt.Errorf("decode evidence of %s: %w", ruleID, err)
	}
	// The durations are those of the scan that recorded the evidence.
	timings := map[string]float64{}
	if rec := rs[0].ScanID; rec == sc.ID {
		_ = json.Unmarshal(sc.Timings, &timings)
	} else if other, err := s.q.ScanGet(ctx, rec); err == nil {
		_ = json.Unmarshal(other.Timings, &timings)
	}
	addDurations(stored.Evidence, timings)
	return Evidence{Scan: sc, Result: rs[0], Evidence: stored.Evidence}, nil
}

// scanCovers reports whether the scan evaluated the rule (its framework or rule list).
func (s *Service) scanCovers(sc dbq.Scan, ruleID string) bool {
	rules, err := s.cat.Select(deref(sc.Framework), sc.RuleIds)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(rules, func(r *rule.Rule) bool { return r.ID == ruleID })
}

func addDurations(ev *engine.Evidence, timings map[string]float64) {
	if ev == nil {
		return
	}
	if ev.Method == "all_of" {
		ev.DurationMS = 0
		for _, c := range ev.Checks {
			addDurations(c, timings)
			ev.DurationMS += c.DurationMS
		}
		return
	}
	ev.DurationMS = 0
	for _, k := range ev.Records {
		ev.DurationMS += timings[k]
	}
}

// RuleFilter narrows the rule list.
type RuleFilter struct {
	Framework, Severity, Category string
	Family                        string
	Version                       rule.Version // with Family: rules for that version
	Query                         string
}

// Rules pages the rules by id. 400 for an unknown framework.
func (s *Service) Rules(_ context.Context, f RuleFilter, page cursor.Request[string]) (cursor.Page[*rule.Rule], error) {
	candidates := s.cat.Rules()
	if f.Framework != "" {
		fw, ok := s.cat.Framework(f.Framework)
		if !ok {
			return cursor.Page[*rule.Rule]{}, apperr.Invalid("framework", fmt.Sprintf("Unknown framework %q.", f.Framework))
		}
		candidates = fw.Rules
	}
	words := strings.Fields(strings.ToLower(f.Query))
	var rows []*rule.Rule
	for _, r := range candidates {
		switch {
		case page.After != nil && r.ID <= *page.After,
			f.Severity != "" && string(r.Severity) != f.Severity,
			f.Category != "" && r.Category != f.Category,
			f.Family != "" && !forPlatform(r, f.Family, f.Version),
			!matchesWords(r, words):
			continue
		}
		rows = append(rows, r)
		if len(rows) == int(page.Fetch()) {
			break
		}
	}
	return cursor.Cut(page, rows, func(r *rule.Rule) string { return r.ID }), nil
}

func forPlatform(r *rule.Rule, family string, version rule.Version) bool {
	if version != "" {
		return r.AppliesTo(family, version)
	}
	return slices.ContainsFunc(r.Platforms, func(p rule.Platform) bool { return p.Family == family })
}

func matchesWords(r *rule.Rule, words []string) bool {
	if len(words) == 0 {
		return true
	}
	text := strings.ToLower(r.ID + " " + r.Title + " " + r.Description)
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// VariableValues returns the values scans use now for the given variables: the
// installation's, else the rule's default (nil when neither).
func (s *Service) VariableValues(ctx context.Context, r *rule.Rule) (map[string]*string, error) {
	site, err := s.variables(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*string, len(r.Variables))
	for name, v := range r.Variables {
		if val, ok := site[name]; ok {
			out[name] = &val
		} else {
			out[name] = v.Default
		}
	}
	return out, nil
}
