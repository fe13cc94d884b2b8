package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
)

// LiveTx returns the live (active, acknowledged or silenced) alerts of keys by dedup key,
// read inside the caller's transaction.
func LiveTx(ctx context.Context, tx pgx.Tx, keys []string) (map[string]dbq.Alert, error) {
	out := map[string]dbq.Alert{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := dbq.New(tx).AlertLiveByKeys(ctx, keys)
	if err != nil {
		return nil, pg.Translate(err)
	}
	for _, a := range rows {
		out[a.DedupKey] = a
	}
	return out, nil
}

// Score is a score (a passing fraction, pass / (pass + fail)) a source judges against its
// thresholds: a drop of at least DropPoints percentage points from a baseline, or a value
// below FloorPercent.
type Score struct {
	DedupKey  string
	AlertType string
	HostID    *uuid.UUID
	// Value is the new score, 0 to 1.
	Value float64
	// Baseline is what a drop is measured from while no alert of the key is live (the
	// score before a host's scan, the fleet's highest in its window); nil when there is
	// none. A live alert keeps the baseline it was raised with, in its tags.
	Baseline *float64
	// DropPoints is the least drop that raises, in percentage points (1 to 100).
	DropPoints int
	// FloorPercent is the floor (0 turns it off).
	FloorPercent int
	// Severity is the alert's severity for a drop, FloorSeverity below the floor.
	Severity, FloorSeverity string
	// Subject names what the score is of in the title and body, e.g. "CIS … on web-1".
	Subject string
	// Tags are added to the alert's (framework, scan_id, ...).
	Tags map[string]any
	At   time.Time
}

// ScoreVerdict is what JudgeScoreTx did.
type ScoreVerdict int

// The verdicts.
const (
	// ScoreQuiet: nothing to raise and nothing live to resolve, or a live alert the new
	// score does not make worse.
	ScoreQuiet ScoreVerdict = iota
	// ScoreRaised: a new alert, or an occurrence counted on the live one (the score fell
	// further).
	ScoreRaised
	// ScoreResolved: the live alert resolved, the score having recovered.
	ScoreResolved
)

// JudgeScoreTx keeps the score alert of s.DedupKey in step with a new score, inside the
// caller's transaction; live is that key's live alert (LiveTx), nil when none. The
// condition holds while the score is below the floor or at least DropPoints below the
// baseline. It raises when the condition holds and no alert is live, or the score is lower
// than the live alert last recorded (an occurrence counted); it resolves the live alert,
// audited as the system, when the score has recovered (at or above the floor and less
// than DropPoints below the baseline the alert was raised with).
func JudgeScoreTx(ctx context.Context, tx pgx.Tx, aw *audit.Writer, live *dbq.Alert, s Score) (ScoreVerdict, error) {
	base := s.Baseline
	var last *float64
	if live != nil {
		var tags map[string]any
		if err := json.Unmarshal(live.Tags, &tags); err == nil {
			if b, ok := tags["baseline_score"].(float64); ok {
				base = &b
			}
			if v, ok := tags["score"].(float64); ok {
				last = &v
			}
		}
	}
	drop := 0.0
	if base != nil {
		drop = points(*base - s.Value)
	}
	dropped := base != nil && drop >= float64(s.DropPoints)
	below := s.FloorPercent > 0 && points(s.Value) < float64(s.FloorPercent)
	if !dropped && !below {
		if live == nil {
			return ScoreQuiet, nil
		}
		_, err := AutoResolveTx(ctx, tx, aw, s.DedupKey, s.At)
		return ScoreResolved, err
	}
	if live != nil && last != nil && s.Value >= *last {
		return ScoreQuiet, nil
	}
	tags := map[string]any{"score": s.Value, "drop_points": s.DropPoints, "floor_percent": s.FloorPercent}
	for k, v := range s.Tags {
		tags[k] = v
	}
	severity := s.Severity
	var why string
	if base != nil {
		tags["baseline_score"] = *base
		why = fmt.Sprintf("down %.1f points from %.1f%%", drop, points(*base))
	}
	if below {
		severity = s.FloorSeverity
		if why != "" {
			why += ", "
		}
		why += fmt.Sprintf("below the floor of %d%%", s.FloorPercent)
	}
	var clears []string
	if s.FloorPercent > 0 {
		clears = append(clears, fmt.Sprintf("at or above %d%%", s.FloorPercent))
	}
	if base != nil {
		clears = append(clears, fmt.Sprintf("within %d points of %.1f%%", s.DropPoints, points(*base)))
	}
	_, err := RaiseTx(ctx, tx, Raise{
		DedupKey: s.DedupKey, AlertType: s.AlertType, Severity: severity, HostID: s.HostID,
		Title: scoreTitle(s.Subject, s.Value, base != nil),
		Body: fmt.Sprintf("The compliance score (pass / (pass + fail)) of %s is %.1f%%: %s. "+
			"The alert resolves itself when the score is back %s.",
			s.Subject, points(s.Value), why, strings.Join(clears, " and ")),
		Tags: tags, At: s.At,
	})
	if err != nil {
		return ScoreQuiet, err
	}
	return ScoreRaised, nil
}

// points turns a fraction into percentage points, to a tenth (so 0.7 is 70 points, not
// 69.99999).
func points(f float64) float64 { return math.Round(f*1000) / 10 }

// scoreTitle says a score fell when there was one before, else that it is low (the first
// score of a host below the floor did not fall from anything).
func scoreTitle(subject string, value float64, fell bool) string {
	if fell {
		return fmt.Sprintf("Compliance score of %s fell to %.1f%%", subject, points(value))
	}
	return fmt.Sprintf("Compliance score of %s is %.1f%%", subject, points(value))
}
