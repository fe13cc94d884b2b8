package config

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as text such as "15m" or
// "1h30m" in TOML, environment variables and flags.
type Duration struct {
	time.Duration
}

// String returns the duration in time.ParseDuration syntax without trailing
// zero units: "15m" rather than "15m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText encodes the duration as String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses text in time.ParseDuration syntax.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 15m or 1h30m", text)
	}
	d.Duration = v
	return nil
}
