package scan

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/settings"
)

// ScheduleSettingsKey is the settings document holding ScheduleConfig.
const ScheduleSettingsKey = "scan"

// Intervals are the minutes from a host's last scan to its next, per band.
type Intervals struct {
	// Unknown applies to a host scanned without a result yet (its scans failed); a host
	// never scanned is due at once.
	Unknown   int `json:"unknown"`
	Critical  int `json:"critical"`
	Low       int `json:"low"`
	Partial   int `json:"partial"`
	Compliant int `json:"compliant"`
}

// Of returns the interval of a band.
func (i Intervals) Of(b Band) time.Duration {
	m := i.Unknown
	switch b {
	case BandCritical:
		m = i.Critical
	case BandLow:
		m = i.Low
	case BandPartial:
		m = i.Partial
	case BandCompliant:
		m = i.Compliant
	}
	return time.Duration(m) * time.Minute
}

// ScheduleConfig is how scheduled scans are paced and how long scans and evidence are
// kept (the API's ScanConfig).
type ScheduleConfig struct {
	// Enabled lets the scheduler queue scans; manual and batch scans run either way.
	Enabled         bool      `json:"enabled"`
	IntervalMinutes Intervals `json:"interval_minutes"`
	// RateLimitPerMinute is the most scheduled scans queued per minute.
	RateLimitPerMinute int `json:"rate_limit_per_minute"`
	// MaxConcurrent is the most scheduled scans queued or running at once.
	MaxConcurrent int `json:"max_concurrent"`
	// ScanRetentionDays: ended scans older than this are deleted, except those that wrote a
	// current result.
	ScanRetentionDays int `json:"scan_retention_days"`
	// EvidenceRetentionDays: evidence older than this that no current result and no
	// transition within the period uses is deleted.
	EvidenceRetentionDays int `json:"evidence_retention_days"`
}

// DefaultScheduleConfig is the configuration before an operator changes it: a host that
// fails badly is looked at four times as often as a compliant one, and a host whose scans
// fail is tried again every hour.
var DefaultScheduleConfig = ScheduleConfig{
	Enabled:            true,
	IntervalMinutes:    Intervals{Unknown: 60, Critical: 240, Low: 480, Partial: 720, Compliant: 1440},
	RateLimitPerMinute: 60, MaxConcurrent: 20, ScanRetentionDays: 90, EvidenceRetentionDays: 365,
}

// The accepted ranges (the spec's ScanConfig bounds).
const (
	MinIntervalMinutes = 15
	MaxIntervalMinutes = 10080
	MaxRatePerMinute   = 600
	MaxConcurrentScans = 500
	MinRetentionDays   = 7
	MaxRetentionDays   = 3650
)

// intervalFieldPrefix names the intervals' fields in validation errors.
const intervalFieldPrefix = "interval_minutes."

// Validate reports the first field out of range, then intervals out of order: a worse band
// is never scanned less often than a better one (critical ≤ low ≤ partial ≤ compliant);
// the error names the first interval shorter than the one before it.
func (c ScheduleConfig) Validate() error {
	iv := c.IntervalMinutes
	ordered := []struct {
		name string
		v    int
	}{{"critical", iv.Critical}, {"low", iv.Low}, {"partial", iv.Partial}, {"compliant", iv.Compliant}}
	for _, f := range []struct {
		name   string
		v      int
		lo, hi int
	}{
		{intervalFieldPrefix + "unknown", iv.Unknown, MinIntervalMinutes, MaxIntervalMinutes},
		{intervalFieldPrefix + "critical", iv.Critical, MinIntervalMinutes, MaxIntervalMinutes},
		{intervalFieldPrefix + "low", iv.Low, MinIntervalMinutes, MaxIntervalMinutes},
		{intervalFieldPrefix + "partial", iv.Partial, MinIntervalMinutes, MaxIntervalMinutes},
		{intervalFieldPrefix + "compliant", iv.Compliant, MinIntervalMinutes, MaxIntervalMinutes},
		{"rate_limit_per_minute", c.RateLimitPerMinute, 1, MaxRatePerMinute},
		{"max_concurrent", c.MaxConcurrent, 1, MaxConcurrentScans},
		{"scan_retention_days", c.ScanRetentionDays, MinRetentionDays, MaxRetentionDays},
		{"evidence_retention_days", c.EvidenceRetentionDays, MinRetentionDays, MaxRetentionDays},
	} {
		if f.v < f.lo || f.v > f.hi {
			return apperr.Invalid(f.name, fmt.Sprintf("%s must be between %d and %d.", f.name, f.lo, f.hi))
		}
	}
	for i := 1; i < len(ordered); i++ {
		prev, cur := ordered[i-1], ordered[i]
		if cur.v < prev.v {
			return apperr.Invalid(intervalFieldPrefix+cur.name, fmt.Sprintf(
				"%s%s (%d) must not be shorter than %s%s (%d): a worse band is never scanned less often.",
				intervalFieldPrefix, cur.name, cur.v, intervalFieldPrefix, prev.name, prev.v))
		}
	}
	return nil
}

// LoadScheduleConfig reads the stored configuration over DefaultScheduleConfig.
func LoadScheduleConfig(ctx context.Context, db dbq.DBTX) (ScheduleConfig, error) {
	return settings.Load(ctx, db, ScheduleSettingsKey, DefaultScheduleConfig)
}

// ScheduleConfig returns the configuration in force. Guarded by system:read.
func (s *Service) ScheduleConfig(ctx context.Context) (ScheduleConfig, error) {
	return LoadScheduleConfig(ctx, s.pool)
}

// SetScheduleConfig validates and stores the configuration, auditing the values before
// and after in the same transaction; the scheduler and retention use it from their next
// run. Guarded by system:config:write. Errors: validation_failed naming the field.
func (s *Service) SetScheduleConfig(ctx context.Context, c ScheduleConfig) (ScheduleConfig, error) {
	if err := c.Validate(); err != nil {
		return ScheduleConfig{}, err
	}
	p := authz.PrincipalFrom(ctx)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := LoadScheduleConfig(ctx, tx)
		if err != nil {
			return err
		}
		if err := settings.Save(ctx, tx, ScheduleSettingsKey, c, p); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanConfigChanged, "settings", ScheduleSettingsKey,
			map[string]any{"before": before, "after": c}))
	})
	if err != nil {
		return ScheduleConfig{}, pg.Translate(err)
	}
	return c, nil
}

// Band is a host's compliance band, from its results of every rule; the scheduler scans
// worse bands more often.
type Band string

// The bands, worst first after unknown.
const (
	BandUnknown   Band = "unknown"
	BandCritical  Band = "critical"
	BandLow       Band = "low"
	BandPartial   Band = "partial"
	BandCompliant Band = "compliant"
)

// The passing fractions (pass / (pass + fail)) under which a host falls in a band. The
// scheduler's queries get them as parameters, so BandOf and SQL agree.
const (
	criticalBelow = 0.5
	lowBelow      = 0.8
	partialBelow  = 0.95
)

// BandOf returns the band of a host with these results of every rule: unknown without a
// pass or a fail, critical when a critical rule fails or under half pass, then low under
// 80 %, partial under 95 %, compliant from 95 %.
func BandOf(pass, fail, criticalFailing int) Band {
	if pass+fail <= 0 {
		return BandUnknown
	}
	f := float64(pass) / float64(pass+fail)
	switch {
	case criticalFailing > 0 || f < criticalBelow:
		return BandCritical
	case f < lowBelow:
		return BandLow
	case f < partialBelow:
		return BandPartial
	}
	return BandCompliant
}

// NextScan returns when a host is next due: its last scan plus its band's interval, or,
// never scanned (last nil), at once, which is dated to its creation so the hosts waiting
// longest go first.
func (c ScheduleConfig) NextScan(b Band, last *time.Time, created time.Time) time.Time {
	if last == nil {
		return created
	}
	return last.Add(c.IntervalMinutes.Of(b))
}

// scheduleParams are the band thresholds and intervals the scheduler's queries take.
type scheduleParams struct {
	CriticalBelow, LowBelow, PartialBelow                                         float64
	UnknownMinutes, CriticalMinutes, LowMinutes, PartialMinutes, CompliantMinutes int32
}

func (c ScheduleConfig) params() scheduleParams {
	iv := c.IntervalMinutes
	return scheduleParams{criticalBelow, lowBelow, partialBelow,
		int32(iv.Unknown), int32(iv.Critical), int32(iv.Low), int32(iv.Partial), int32(iv.Compliant)}
}

func (c ScheduleConfig) listParams(dueBy *time.Time, limit int32) dbq.ScanScheduleListParams {
	p := c.params()
	return dbq.ScanScheduleListParams{DueBy: dueBy, RowLimit: limit,
		CriticalBelow: p.CriticalBelow, LowBelow: p.LowBelow, PartialBelow: p.PartialBelow,
		UnknownMinutes: p.UnknownMinutes, CriticalMinutes: p.CriticalMinutes, LowMinutes: p.LowMinutes,
		PartialMinutes: p.PartialMinutes, CompliantMinutes: p.CompliantMinutes}
}

func (c ScheduleConfig) countParams(now time.Time) dbq.ScanScheduleCountsParams {
	p := c.params()
	return dbq.ScanScheduleCountsParams{Now: now,
		CriticalBelow: p.CriticalBelow, LowBelow: p.LowBelow, PartialBelow: p.PartialBelow,
		UnknownMinutes: p.UnknownMinutes, CriticalMinutes: p.CriticalMinutes, LowMinutes: p.LowMinutes,
		PartialMinutes: p.PartialMinutes, CompliantMinutes: p.CompliantMinutes}
}

// ScheduleItem is a host the scheduler may queue, with when it is next due.
type ScheduleItem struct {
	HostID   uuid.UUID
	Hostname string
	Band     Band
	// PassingFraction is nil without a pass or a fail.
	PassingFraction *float64
	// LastScanAt is when its latest scan was requested; nil when never.
	LastScanAt *time.Time
	// NextScanAt is in the past when the host is overdue.
	NextScanAt time.Time
}

func scheduleItem(r dbq.ScanScheduleListRow) ScheduleItem {
	it := ScheduleItem{HostID: r.ID, Hostname: r.Hostname, Band: Band(r.Band), NextScanAt: r.NextScanAt}
	if t := (Totals{Pass: int64(r.PassCount), Fail: int64(r.FailCount)}); t.Pass+t.Fail > 0 {
		f := t.PassingFraction()
		it.PassingFraction = &f
	}
	if r.Scanned {
		last := r.LastScanAt
		it.LastScanAt = &last
	}
	return it
}

// SchedulePreview is what the scheduler would do now with the configuration in force.
type SchedulePreview struct {
	Enabled     bool
	GeneratedAt time.Time
	// DueNow counts the hosts the scheduler may queue that are due now.
	DueNow int64
	// HostsByBand counts the hosts the scheduler looks after (live, reachable, out of
	// maintenance), including those with a scan queued or running.
	HostsByBand map[Band]int64
	// NotSchedulable counts the live hosts it leaves alone: unreachable (or not probed
	// yet) or in maintenance.
	NotSchedulable int64
	// Items are the hosts it may queue (those above without a scan queued or running),
	// soonest first.
	Items []ScheduleItem
}

// MaxPreviewItems bounds the items of a preview.
const MaxPreviewItems = 1000

// Preview computes the schedule without queuing anything: limit items, soonest first.
// Guarded by scan:read. Errors: validation_failed (limit out of 1..MaxPreviewItems).
func (s *Service) Preview(ctx context.Context, limit int32) (SchedulePreview, error) {
	if limit < 1 || limit > MaxPreviewItems {
		return SchedulePreview{}, apperr.Invalid("limit", fmt.Sprintf("limit must be between 1 and %d.", MaxPreviewItems))
	}
	cfg, err := LoadScheduleConfig(ctx, s.pool)
	if err != nil {
		return SchedulePreview{}, err
	}
	now := s.now()
	counts, err := s.q.ScanScheduleCounts(ctx, cfg.countParams(now))
	if err != nil {
		return SchedulePreview{}, pg.Translate(err)
	}
	rows, err := s.q.ScanScheduleList(ctx, cfg.listParams(nil, limit))
	if err != nil {
		return SchedulePreview{}, pg.Translate(err)
	}
	out := SchedulePreview{
		Enabled: cfg.Enabled, GeneratedAt: now, DueNow: counts.DueNow, NotSchedulable: counts.NotSchedulable,
		HostsByBand: map[Band]int64{
			BandUnknown: counts.Unknown, BandCritical: counts.Critical, BandLow: counts.Low,
			BandPartial: counts.Partial, BandCompliant: counts.Compliant,
		},
		Items: make([]ScheduleItem, len(rows)),
	}
	for i, r := range rows {
		out.Items[i] = scheduleItem(r)
	}
	return out, nil
}

// perTick is how many scans the rate allows in one scheduler period (at least one).
func (s *Service) perTick(perMinute int) int {
	return max(int(float64(perMinute)*s.opts.SchedulePeriod.Minutes()), 1)
}

// ScheduleTick queues the due hosts once, when the scheduler is enabled, most overdue
// first: at most the rate limit's share of one period, and no more than max_concurrent
// scheduled scans queued or running in all. Each is a scan of every rule (trigger
// scheduled, requested by the system) with its job and its scan.queued event, all in one
// transaction. A host whose scan a manual request queued meanwhile is skipped silently.
// It returns the scans it queued. The periodic job scan_schedule runs it every period.
func (s *Service) ScheduleTick(ctx context.Context) ([]dbq.Scan, error) {
	var queued []dbq.Scan
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cfg, err := LoadScheduleConfig(ctx, tx)
		if err != nil || !cfg.Enabled {
			return err
		}
		if err := q.ScanScheduleLock(ctx); err != nil {
			return err
		}
		active, err := q.ScanScheduledActive(ctx)
		if err != nil {
			return err
		}
		n := min(s.perTick(cfg.RateLimitPerMinute), cfg.MaxConcurrent-int(active))
		if n <= 0 {
			return nil
		}
		now := s.now()
		due, err := q.ScanScheduleList(ctx, cfg.listParams(&now, int32(n)))
		if err != nil || len(due) == 0 {
			return err
		}
		ids, hosts := make([]uuid.UUID, len(due)), make([]uuid.UUID, len(due))
		for i, d := range due {
			ids[i], hosts[i] = newID(), d.ID
		}
		rows, err := q.ScanScheduleInsert(ctx, dbq.ScanScheduleInsertParams{Ids: ids, HostIds: hosts,
			CorrelationID: reqinfo.CorrelationID(ctx), CreatedAt: now})
		if err != nil {
			return err
		}
		// Jobs and events in the order the hosts were due, which is the order of the ids.
		order := make(map[uuid.UUID]int, len(ids))
		for i, id := range ids {
			order[id] = i
		}
		slices.SortFunc(rows, func(a, b dbq.Scan) int { return order[a.ID] - order[b.ID] })
		queuedIDs := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			queuedIDs[i] = r.ID
		}
		if err := s.enqueueScans(ctx, tx, queuedIDs); err != nil {
			return err
		}
		for _, r := range rows {
			if err := s.publish(ctx, tx, r, "scan.queued", nil); err != nil {
				return err
			}
		}
		queued = rows
		return nil
	})
	if err != nil {
		return nil, pg.Translate(err)
	}
	if len(queued) > 0 {
		s.log.DebugContext(ctx, "scan scheduler tick", slog.Int("queued", len(queued)))
	}
	return queued, nil
}
