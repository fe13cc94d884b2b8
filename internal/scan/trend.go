package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

// The widths of a trend's buckets.
var trendIntervals = map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour}

const (
	// defaultTrendInterval is a trend's bucket width when none is asked for.
	defaultTrendInterval = "day"
	// defaultTrendSpan is how far back a trend starts when since is not given.
	defaultTrendSpan = 30 * 24 * time.Hour
	// maxTrendPoints bounds a trend: one probe of an index per point.
	maxTrendPoints = 1000
)

// TrendRange is what a trend asks for: nil since and until default to 30 days before
// until and now, an empty interval to defaultTrendInterval.
type TrendRange struct {
	Since, Until *time.Time
	Interval     string
}

// Point is the counts at the end of a trend bucket.
type Point struct {
	At time.Time
	Totals
}

// Trend is a series of points, oldest first.
type Trend struct {
	Framework    string
	Interval     string
	Since, Until time.Time
	Points       []Point
}

// trendGrid is a resolved TrendRange: the instants the points are read at.
type trendGrid struct {
	since, until time.Time
	interval     string
	ends         []time.Time
}

// grid resolves r into the bucket ends of the series. The ends are aligned on until and
// step back from it by the interval while they stay at or after since: until, until −
// interval, … So the last point is always the state at until (now by default), points are
// evenly spaced whatever the time zone or the daylight saving rules of the reader, and a
// chart refreshed later shows the same shape, shifted. Times are cut to the microsecond,
// the database's precision. Errors: validation_failed naming since (not before until) or
// interval (unknown, or more than maxTrendPoints points).
func (s *Service) grid(r TrendRange) (trendGrid, error) {
	g := trendGrid{interval: r.Interval, until: s.now()}
	if g.interval == "" {
		g.interval = defaultTrendInterval
	}
	step, ok := trendIntervals[g.interval]
	if !ok {
		return g, apperr.Invalid("interval", fmt.Sprintf("Unknown interval %q; use hour, day or week.", g.interval))
	}
	if r.Until != nil {
		g.until = *r.Until
	}
	g.until = g.until.Truncate(time.Microsecond)
	g.since = g.until.Add(-defaultTrendSpan)
	if r.Since != nil {
		g.since = r.Since.Truncate(time.Microsecond)
	}
	if !g.since.Before(g.until) {
		return g, apperr.Invalid("since", "since must be before until.")
	}
	n := int64(g.until.Sub(g.since)/step) + 1
	if n > maxTrendPoints {
		return g, apperr.Invalid("interval", fmt.Sprintf(
			"The range needs %d points at one per %s; at most %d are served: choose a wider interval or a shorter range.",
			n, g.interval, maxTrendPoints))
	}
	g.ends = make([]time.Time, n)
	for i := range g.ends {
		g.ends[i] = g.until.Add(-time.Duration(n-1-int64(i)) * step)
	}
	return g, nil
}

// trend is the series of g read as rows.
func (g trendGrid) trend(framework string, rows []dbq.FleetComplianceTrendRow) Trend {
	out := Trend{Framework: framework, Interval: g.interval, Since: g.since, Until: g.until, Points: make([]Point, len(rows))}
	for i, p := range rows {
		out.Points[i] = Point{At: p.At, Totals: Totals{p.Pass, p.Fail, p.Skipped, p.Errors, p.Excepted}}
	}
	return out
}

// HostTrend returns a live host's rollup for a framework at the end of each bucket of r:
// what its last scan before that instant left (zeros before its first). Guarded by
// compliance:read. Errors: validation_failed naming framework, since or interval;
// resource.not_found for a host that does not exist or was deleted.
func (s *Service) HostTrend(ctx context.Context, hostID uuid.UUID, framework *string, r TrendRange) (Trend, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return Trend{}, err
	}
	g, err := s.grid(r)
	if err != nil {
		return Trend{}, err
	}
	ok, err := s.q.ScanHostExists(ctx, hostID)
	if err != nil {
		return Trend{}, pg.Translate(err)
	}
	if !ok {
		return Trend{}, errHostNotFound()
	}
	rows, err := s.q.HostComplianceTrend(ctx, dbq.HostComplianceTrendParams{Ends: g.ends, HostID: hostID, Framework: f.ID})
	if err != nil {
		return Trend{}, pg.Translate(err)
	}
	points := make([]dbq.FleetComplianceTrendRow, len(rows))
	for i, r := range rows {
		points[i] = dbq.FleetComplianceTrendRow(r)
	}
	return g.trend(f.ID, points), nil
}

// FleetTrend returns the fleet's totals for a framework at the end of each bucket of r, as
// the snapshot job recorded them (see SnapshotFleet): zeros before the first record. A
// series ending now (no until) ends with the live totals.
// Guarded by compliance:read. Errors: validation_failed naming framework, since or
// interval.
func (s *Service) FleetTrend(ctx context.Context, framework *string, r TrendRange) (Trend, error) {
	f, err := s.framework("framework", framework)
	if err != nil {
		return Trend{}, err
	}
	g, err := s.grid(r)
	if err != nil {
		return Trend{}, err
	}
	// The same framework id /fleet/score sums fleet_compliance under (fleetTotals), so a
	// framework without results has no record here either and both read zeros.
	rows, err := s.q.FleetComplianceTrend(ctx, dbq.FleetComplianceTrendParams{Ends: g.ends, Framework: f.ID})
	if err != nil {
		return Trend{}, pg.Translate(err)
	}
	out := g.trend(f.ID, rows)
	if r.Until == nil && len(out.Points) > 0 {
		// A series ending now ends with the fleet's live totals (what /fleet/score reads),
		// not the snapshot job's last record, which may be up to a minute behind: the
		// chart's last point and the score beside it always agree, from the first scan on.
		live, err := s.fleetTotals(ctx, f, nil)
		if err != nil {
			return Trend{}, err
		}
		out.Points[len(out.Points)-1].Totals = live
	}
	return out, nil
}

// SnapshotFleet records the fleet's current totals of every framework whose totals
// changed since its last record, under the current minute, and returns how many
// frameworks it recorded. Scans change fleet_compliance many times a minute across
// processes; reading it once a minute here keeps the history to one row per framework and
// minute of change without adding a write to every scan. In the same transaction it
// judges the recorded frameworks' scores (fleet_score_drop alerts).
func (s *Service) SnapshotFleet(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).FleetComplianceSnapshot(ctx, now.Truncate(time.Minute))
		if err != nil {
			return err
		}
		n = int64(len(rows))
		if n == 0 {
			return nil
		}
		return s.judgeFleetScores(ctx, tx, rows, now)
	})
	return n, pg.Translate(err)
}

// FleetSnapshotArgs is the periodic job that records the fleet's totals (SnapshotFleet).
type FleetSnapshotArgs struct{}

// Kind names the job kind.
func (FleetSnapshotArgs) Kind() string { return "compliance_fleet_snapshot" }

// InsertOpts: a missed run is made up by the next one, a minute later.
func (FleetSnapshotArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type fleetSnapshotWorker struct {
	river.WorkerDefaults[FleetSnapshotArgs]
	svc *Service
}

func (w *fleetSnapshotWorker) Work(ctx context.Context, _ *river.Job[FleetSnapshotArgs]) error {
	_, err := w.svc.SnapshotFleet(ctx)
	return err
}

// fleetSnapshotJob runs the snapshot every minute (and when the leader starts, so a
// restart does not leave a gap of a minute).
func (s *Service) fleetSnapshotJob(workers *river.Workers) *river.PeriodicJob {
	river.AddWorker(workers, &fleetSnapshotWorker{svc: s})
	return river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return FleetSnapshotArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "compliance_fleet_snapshot"})
}
