package liveness

import (
	"context"
	"fmt"
	"time"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/settings"
)

// SettingsKey is the settings document holding Config.
const SettingsKey = "connectivity"

// Config is the polling configuration (the API's ConnectivityConfig). Each *Sec field is
// how long after a probe a host in that state is probed again.
type Config struct {
	OnlineSec      int `json:"online_sec"`
	DegradedSec    int `json:"degraded_sec"`
	CriticalSec    int `json:"critical_sec"`
	DownSec        int `json:"down_sec"`
	MaintenanceSec int `json:"maintenance_sec"`
	// TimeoutSec bounds each probe layer.
	TimeoutSec int `json:"timeout_sec"`
	// UnreachableThreshold is how many consecutive banner failures make a host down.
	UnreachableThreshold int `json:"unreachable_threshold"`
	// RateLimit is the most probes started per second across the cluster.
	RateLimit int `json:"rate_limit"`
	// MaintenanceGlobal pauses polling of every host.
	MaintenanceGlobal bool `json:"maintenance_global"`
}

// DefaultConfig is the configuration before an operator changes it: healthy hosts every
// five minutes, troubled ones sooner (a critical host is confirmed down within about
// three minutes with the threshold of 3), and at most 200 probes a second, which is
// 12,000 hosts a minute.
var DefaultConfig = Config{
	OnlineSec: 300, DegradedSec: 120, CriticalSec: 60, DownSec: 120, MaintenanceSec: 300,
	TimeoutSec: 5, UnreachableThreshold: 3, RateLimit: 200,
}

// The accepted ranges (the spec's ConnectivityConfig bounds).
const (
	MinIntervalSec = 60
	MaxIntervalSec = 86400
	MinTimeoutSec  = 1
	MaxTimeoutSec  = 30
	MinThreshold   = 1
	MaxThreshold   = 10
	MinRateLimit   = 1
	MaxRateLimit   = 200
)

// Validate reports the first field out of range.
func (c Config) Validate() error {
	for _, f := range []struct {
		name   string
		v      int
		lo, hi int
	}{
		{"online_sec", c.OnlineSec, MinIntervalSec, MaxIntervalSec},
		{"degraded_sec", c.DegradedSec, MinIntervalSec, MaxIntervalSec},
		{"critical_sec", c.CriticalSec, MinIntervalSec, MaxIntervalSec},
		{"down_sec", c.DownSec, MinIntervalSec, MaxIntervalSec},
		{"maintenance_sec", c.MaintenanceSec, MinIntervalSec, MaxIntervalSec},
		{"timeout_sec", c.TimeoutSec, MinTimeoutSec, MaxTimeoutSec},
		{"unreachable_threshold", c.UnreachableThreshold, MinThreshold, MaxThreshold},
		{"rate_limit", c.RateLimit, MinRateLimit, MaxRateLimit},
	} {
		if f.v < f.lo || f.v > f.hi {
			return apperr.Invalid(f.name, fmt.Sprintf("%s must be between %d and %d", f.name, f.lo, f.hi))
		}
	}
	return nil
}

// intervalSec returns the probe interval of a state in seconds (unknown hosts are due at
// once, so their interval is never used; it is the critical one).
func (c Config) intervalSec(state string) int {
	switch state {
	case StateOnline:
		return c.OnlineSec
	case StateDegraded:
		return c.DegradedSec
	case StateDown:
		return c.DownSec
	case StateMaintenance:
		return c.MaintenanceSec
	}
	return c.CriticalSec
}

// timeout returns the bound of one probe layer.
func (c Config) timeout() time.Duration { return time.Duration(c.TimeoutSec) * time.Second }

// LoadConfig reads the stored configuration over DefaultConfig.
func LoadConfig(ctx context.Context, db dbq.DBTX) (Config, error) {
	return settings.Load(ctx, db, SettingsKey, DefaultConfig)
}
