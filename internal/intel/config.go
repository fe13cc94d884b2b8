package intel

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

// Settings keys of the two configurations.
const (
	IntelligenceSettingsKey = "intelligence"
	SystemInfoSettingsKey   = "discovery"
)

// IntelligenceConfig is how often hosts are collected (the API's IntelligenceConfig).
type IntelligenceConfig struct {
	// IntervalSec is how long after its last collection a host is collected again.
	IntervalSec int `json:"interval_sec"`
	// RateLimit is the most collections the scheduler starts per minute.
	RateLimit int `json:"rate_limit"`
	// MaintenanceGlobal pauses scheduled collection.
	MaintenanceGlobal bool `json:"maintenance_global"`
}

// DefaultIntelligenceConfig is the configuration before an operator changes it.
var DefaultIntelligenceConfig = IntelligenceConfig{IntervalSec: 3600, RateLimit: 60}

// Validate reports the first field out of range (the spec's bounds).
func (c IntelligenceConfig) Validate() error {
	if err := inRange("interval_sec", c.IntervalSec, 300, 86400); err != nil {
		return err
	}
	return inRange("rate_limit", c.RateLimit, 1, 200)
}

// SystemInfoConfig is how often hosts' system information is collected (the API's
// DiscoveryConfig, kept in the settings document "discovery"). MaxCIDRHosts, in the same
// document, bounds network scans and is read by package netscan.
type SystemInfoConfig struct {
	// IntervalSec is how long after its last collection a host's system info is collected
	// again.
	IntervalSec int `json:"interval_sec"`
	// RateLimit is the most system info collections the scheduler starts per minute.
	RateLimit int `json:"rate_limit"`
	// DetectOnFirstContact collects a host's system info once it was first reached.
	DetectOnFirstContact bool `json:"detect_on_first_contact"`
	// MaintenanceGlobal pauses scheduled system info collection.
	MaintenanceGlobal bool `json:"maintenance_global"`
	// MaxCIDRHosts bounds the size of a network scan.
	MaxCIDRHosts int `json:"max_cidr_hosts"`
}

// DefaultSystemInfoConfig is the configuration before an operator changes it.
var DefaultSystemInfoConfig = SystemInfoConfig{IntervalSec: 86400, RateLimit: 100, DetectOnFirstContact: true, MaxCIDRHosts: 1024}

// Validate reports the first field out of range (the spec's bounds).
func (c SystemInfoConfig) Validate() error {
	if err := inRange("interval_sec", c.IntervalSec, 3600, 604800); err != nil {
		return err
	}
	if err := inRange("rate_limit", c.RateLimit, 1, 500); err != nil {
		return err
	}
	return inRange("max_cidr_hosts", c.MaxCIDRHosts, 1, 65536)
}

func inRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return apperr.Invalid(field, fmt.Sprintf("%s must be between %d and %d", field, lo, hi))
	}
	return nil
}

// LoadIntelligenceConfig reads the stored configuration over the defaults.
func LoadIntelligenceConfig(ctx context.Context, db dbq.DBTX) (IntelligenceConfig, error) {
	return settings.Load(ctx, db, IntelligenceSettingsKey, DefaultIntelligenceConfig)
}

// LoadSystemInfoConfig reads the stored configuration over the defaults.
func LoadSystemInfoConfig(ctx context.Context, db dbq.DBTX) (SystemInfoConfig, error) {
	return settings.Load(ctx, db, SystemInfoSettingsKey, DefaultSystemInfoConfig)
}

// IntelligenceConfig returns the intelligence configuration. Guarded by system:read.
func (s *Service) IntelligenceConfig(ctx context.Context) (IntelligenceConfig, error) {
	return LoadIntelligenceConfig(ctx, s.pool)
}

// SystemInfoConfig returns the system info configuration. Guarded by system:read.
func (s *Service) SystemInfoConfig(ctx context.Context) (SystemInfoConfig, error) {
	return LoadSystemInfoConfig(ctx, s.pool)
}

// SetIntelligenceConfig validates and stores the intelligence configuration, auditing the
// values before and after. Guarded by system:config:write. Errors: validation_failed.
func (s *Service) SetIntelligenceConfig(ctx context.Context, actor *authz.Principal, c IntelligenceConfig) (IntelligenceConfig, error) {
	if err := c.Validate(); err != nil {
		return IntelligenceConfig{}, err
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := LoadIntelligenceConfig(ctx, tx)
		if err != nil {
			return err
		}
		return s.saveConfig(ctx, tx, actor, audit.ActionIntelligenceConfigChanged, IntelligenceSettingsKey, before, c)
	})
	if err != nil {
		return IntelligenceConfig{}, err
	}
	return c, nil
}

// SetSystemInfoConfig validates and stores the system info configuration, auditing the values
// before and after. A zero MaxCIDRHosts keeps the stored value. Guarded by
// system:config:write. Errors: validation_failed.
func (s *Service) SetSystemInfoConfig(ctx context.Context, actor *authz.Principal, c SystemInfoConfig) (SystemInfoConfig, error) {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := LoadSystemInfoConfig(ctx, tx)
		if err != nil {
			return err
		}
		if c.MaxCIDRHosts == 0 {
			c.MaxCIDRHosts = before.MaxCIDRHosts
		}
		if err := c.Validate(); err != nil {
			return err
		}
		return s.saveConfig(ctx, tx, actor, audit.ActionDiscoveryConfigChanged, SystemInfoSettingsKey, before, c)
	})
	if err != nil {
		return SystemInfoConfig{}, err
	}
	return c, nil
}

func (s *Service) saveConfig(ctx context.Context, tx pgx.Tx, actor *authz.Principal, action audit.Action, key string, before, after any) error {
	if err := settings.Save(ctx, tx, key, after, actor); err != nil {
		return err
	}
	return s.aw.Append(ctx, tx, audit.For(ctx, actor, action, "settings", key,
		map[string]any{"before": before, "after": after}))
}
