package hostssh

import (
	"context"
	"time"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/settings"
)

// SettingsKey is the settings document holding Config.
const SettingsKey = "ssh"

// Config is the SSH client settings (the API's SSHConfig).
type Config struct {
	// AllowSudoPassword lets a credential's password be sent to sudo (on stdin only) when
	// passwordless sudo is not available.
	AllowSudoPassword bool `json:"allow_sudo_password"`
	// DialTimeoutSec bounds TCP connect, handshake and authentication.
	DialTimeoutSec int `json:"dial_timeout_sec"`
	// CommandTimeoutSec bounds each batch of commands.
	CommandTimeoutSec int `json:"command_timeout_sec"`
}

// DefaultConfig is the configuration before an operator changes it.
var DefaultConfig = Config{AllowSudoPassword: false, DialTimeoutSec: 10, CommandTimeoutSec: 60}

// The accepted ranges (the same as the spec's SSHConfig schema).
const (
	MinDialTimeoutSec    = 1
	MaxDialTimeoutSec    = 120
	MinCommandTimeoutSec = 5
	MaxCommandTimeoutSec = 3600
)

// Validate reports the first field out of range.
func (c Config) Validate() error {
	if c.DialTimeoutSec < MinDialTimeoutSec || c.DialTimeoutSec > MaxDialTimeoutSec {
		return apperr.Invalid("dial_timeout_sec", "dial_timeout_sec must be between 1 and 120")
	}
	if c.CommandTimeoutSec < MinCommandTimeoutSec || c.CommandTimeoutSec > MaxCommandTimeoutSec {
		return apperr.Invalid("command_timeout_sec", "command_timeout_sec must be between 5 and 3600")
	}
	return nil
}

// DialTimeout returns the dial timeout as a duration.
func (c Config) DialTimeout() time.Duration { return time.Duration(c.DialTimeoutSec) * time.Second }

// CommandTimeout returns the command timeout as a duration.
func (c Config) CommandTimeout() time.Duration {
	return time.Duration(c.CommandTimeoutSec) * time.Second
}

// LoadConfig reads the stored settings over DefaultConfig.
func LoadConfig(ctx context.Context, db dbq.DBTX) (Config, error) {
	return settings.Load(ctx, db, SettingsKey, DefaultConfig)
}
