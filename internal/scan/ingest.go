package scan

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
)

// The kinds of change the transition log records. The first three are the seed's
// FleetTransaction change_kind; evidence_changed (same status and severity, different
// evidence) is kept for as_of and left out of the change feed.
const (
	KindFirstSeen       = "first_seen"
	KindStateChanged    = "state_changed"
	KindSeverityChanged = "severity_changed"
	KindEvidenceChanged = "evidence_changed"
)

// StatusExcepted is the status of a failing result that an approved, unexpired exception
// accepts: neither pass nor fail in the score.
const StatusExcepted = "excepted"

// result is one rule's outcome as a scan stores it.
type result struct {
	RuleID   string
	Status   string
	Severity string
	Reason   string
	Hash     []byte
	Body     []byte // canonical evidence JSON
	// ExceptionID names the exception that turned a fail into excepted ("" for none).
	ExceptionID string
}

// state is a host's stored current result of a rule.
type state struct {
	Status, Severity, Reason string
	Hash                     []byte
	FirstSeen                time.Time
	ExceptionID              string
	ScanID                   uuid.UUID
}

// change is one state a scan rewrites, with the transition it logs.
type change struct {
	RuleID                 string
	Kind                   string
	Status, PrevStatus     string
	Severity, PrevSeverity string
	Reason                 string
	Hash                   []byte
	FirstSeen              time.Time
	ExceptionID            string
	// ScanID is the scan whose result the state is: the storing scan's when zero (an
	// exception taking effect or ending keeps the scan that found the result).
	ScanID uuid.UUID
}

// resultsOf turns an engine scan into stored results: only the rules that apply to the
// host's platform, each with its evidence encoded canonically and hashed.
func resultsOf(s *engine.Scan) ([]result, error) {
	out := make([]result, 0, len(s.Results))
	for _, r := range s.Results {
		if !r.Applicable {
			continue
		}
		body, err := evidenceBody(r)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		out = append(out, result{RuleID: r.RuleID, Status: string(r.Status), Severity: string(r.Severity),
			Reason: r.Reason, Hash: sum[:], Body: body})
	}
	return out, nil
}

// storedEvidence is the evidence as stored: what was checked and found, without the
// timings (the scan keeps those), so that an unchanged host gives the same bytes.
type storedEvidence struct {
	Status   engine.Status    `json:"status"`
	Reason   string           `json:"reason,omitempty"`
	Evidence *engine.Evidence `json:"evidence,omitempty"`
}

// evidenceBody encodes a result's evidence canonically: Go's encoder writes struct fields
// in order and map keys sorted.
func evidenceBody(r engine.Result) ([]byte, error) {
	ev := stripTimings(r.Evidence)
	return json.Marshal(storedEvidence{Status: r.Status, Reason: r.Reason, Evidence: ev})
}

func stripTimings(ev *engine.Evidence) *engine.Evidence {
	if ev == nil {
		return nil
	}
	cp := *ev
	cp.DurationMS = 0
	cp.Checks = nil
	for _, c := range ev.Checks {
		cp.Checks = append(cp.Checks, stripTimings(c))
	}
	return &cp
}

// diff compares a scan's results with the stored states: a rule seen for the first time, a
// new status, a new severity or new evidence is a change; anything else writes nothing.
func diff(old map[string]state, results []result) []change {
	var out []change
	for _, r := range results {
		prev, seen := old[r.RuleID]
		c := change{RuleID: r.RuleID, Status: r.Status, Severity: r.Severity, Reason: r.Reason, Hash: r.Hash,
			ExceptionID: r.ExceptionID}
		switch {
		case !seen:
			c.Kind = KindFirstSeen
		case prev.Status != r.Status:
			c.Kind = KindStateChanged
		case prev.Severity != r.Severity:
			c.Kind = KindSeverityChanged
		case !slices.Equal(prev.Hash, r.Hash), prev.ExceptionID != r.ExceptionID:
			c.Kind = KindEvidenceChanged
		default:
			continue
		}
		if seen {
			c.PrevStatus, c.PrevSeverity, c.FirstSeen = prev.Status, prev.Severity, prev.FirstSeen
		}
		out = append(out, c)
	}
	return out
}

// tally counts results by status; Critical counts failing critical rules.
type tally struct {
	Pass, Fail, Skipped, Error, Critical, Excepted int32
}

func (t *tally) add(status, severity string, n int32) {
	switch status {
	case string(engine.StatusPass):
		t.Pass += n
	case string(engine.StatusFail):
		t.Fail += n
		if severity == string(rule.SeverityCritical) {
			t.Critical += n
		}
	case string(engine.StatusSkipped):
		t.Skipped += n
	case string(engine.StatusError):
		t.Error += n
	case StatusExcepted:
		t.Excepted += n
	}
}

func (t tally) minus(o tally) tally {
	return tally{t.Pass - o.Pass, t.Fail - o.Fail, t.Skipped - o.Skipped, t.Error - o.Error, t.Critical - o.Critical,
		t.Excepted - o.Excepted}
}

// rollups counts states per framework of their rules ("all" for every rule).
func rollups(states map[string]state, frameworksOf func(string) []string) map[string]tally {
	out := map[string]tally{}
	for id, st := range states {
		fws := frameworksOf(id)
		if len(fws) == 0 {
			fws = []string{FrameworkAll} // a rule no longer in the corpus still counts overall
		}
		for _, f := range fws {
			t := out[f]
			t.add(st.Status, st.Severity, 1)
			out[f] = t
		}
	}
	return out
}

// apply returns old with the changes made.
func apply(old map[string]state, changes []change, now time.Time) map[string]state {
	merged := make(map[string]state, len(old)+len(changes))
	for k, v := range old {
		merged[k] = v
	}
	for _, c := range changes {
		first := c.FirstSeen
		if c.Kind == KindFirstSeen {
			first = now
		}
		merged[c.RuleID] = state{Status: c.Status, Severity: c.Severity, Reason: c.Reason, Hash: c.Hash, FirstSeen: first,
			ExceptionID: c.ExceptionID, ScanID: c.ScanID}
	}
	return merged
}

// ruleDeltas returns the change of each rule's per-status host counts.
func ruleDeltas(changes []change) map[string]tally {
	out := map[string]tally{}
	for _, c := range changes {
		if c.Kind != KindFirstSeen && c.Kind != KindStateChanged {
			continue
		}
		t := out[c.RuleID]
		t.add(c.Status, "", 1)
		if c.Kind == KindStateChanged {
			t.add(c.PrevStatus, "", -1)
		}
		out[c.RuleID] = t
	}
	return out
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
