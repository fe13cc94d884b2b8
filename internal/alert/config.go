package alert

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/settings"
)

// SettingsKey is the settings document holding Config.
const SettingsKey = "alerts"

// Config holds the thresholds of the sources that judge numbers, which operators tune at
// run time (GET/PUT /system/alerts/config); the configuration file's [alerts] keys give
// its defaults. Scores are pass / (pass + fail) in percent.
type Config struct {
	// ScoreDropPoints and ScoreFloorPercent judge a host's score of a framework after
	// each scan that changes it (score_drop); a floor of 0 is off.
	ScoreDropPoints   int `json:"score_drop_points"`
	ScoreFloorPercent int `json:"score_floor_percent"`
	// FleetScoreDropPoints, FleetScoreFloorPercent and FleetScoreWindowHours judge the
	// fleet's score of a framework each minute it changes (fleet_score_drop); the drop is
	// measured from the highest score within the window.
	FleetScoreDropPoints   int `json:"fleet_score_drop_points"`
	FleetScoreFloorPercent int `json:"fleet_score_floor_percent"`
	FleetScoreWindowHours  int `json:"fleet_score_window_hours"`
	// ScanFailures is how many of a host's scans failing in a row raise scan_failing.
	ScanFailures int `json:"scan_failures"`
}

// DefaultConfig is the built-in thresholds, the configuration file's defaults.
var DefaultConfig = Config{ScoreDropPoints: 10, ScoreFloorPercent: 70, FleetScoreDropPoints: 10,
	FleetScoreFloorPercent: 70, FleetScoreWindowHours: 24, ScanFailures: 3}

// The bounds of Config's fields (the spec's too).
const (
	maxWindowHours  = 720
	maxScanFailures = 100
)

// Validate reports the first field out of its bounds, named as the API names it.
func (c Config) Validate() error {
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"score_drop_points", c.ScoreDropPoints, 1, 100},
		{"score_floor_percent", c.ScoreFloorPercent, 0, 100},
		{"fleet_score_drop_points", c.FleetScoreDropPoints, 1, 100},
		{"fleet_score_floor_percent", c.FleetScoreFloorPercent, 0, 100},
		{"fleet_score_window_hours", c.FleetScoreWindowHours, 1, maxWindowHours},
		{"scan_failures", c.ScanFailures, 1, maxScanFailures},
	} {
		if f.v < f.lo || f.v > f.hi {
			return apperr.Invalid(f.name, fmt.Sprintf("%s must be between %d and %d.", f.name, f.lo, f.hi))
		}
	}
	return nil
}

// LoadConfig reads the stored thresholds over defaults (fields the document lacks keep
// their default).
func LoadConfig(ctx context.Context, db dbq.DBTX, defaults Config) (Config, error) {
	return settings.Load(ctx, db, SettingsKey, defaults)
}

// Config returns the thresholds in force and their defaults. Guarded by system:read.
func (s *Service) Config(ctx context.Context) (Config, Config, error) {
	c, err := LoadConfig(ctx, s.pool, s.defaults)
	return c, s.defaults, err
}

// SetConfig validates and stores the thresholds, auditing the values before and after in
// the same transaction; sources use them from their next judgement. Guarded by
// system:config:write. Errors: validation_failed naming the field.
func (s *Service) SetConfig(ctx context.Context, c Config) (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	p := authz.PrincipalFrom(ctx)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := LoadConfig(ctx, tx, s.defaults)
		if err != nil {
			return err
		}
		if err := settings.Save(ctx, tx, SettingsKey, c, p); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, p, audit.ActionAlertConfigChanged, "settings", SettingsKey,
			map[string]any{"before": before, "after": c}))
	})
	if err != nil {
		return Config{}, pg.Translate(err)
	}
	return c, nil
}
