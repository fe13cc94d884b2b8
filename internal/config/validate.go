package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds that Validate enforces.
const (
	minBodyLimit       = 1 << 10
	maxBodyLimit       = 1 << 30
	minMaxConnections  = 1
	maxMaxConnections  = 1000
	minAccessTokenTTL  = time.Minute
	maxAccessTokenTTL  = 24 * time.Hour
	maxRefreshTokenTTL = 90 * 24 * time.Hour
	minIdleTimeout     = time.Minute
	maxConcurrency     = 10_000
	minRescueAfter     = time.Second
	maxRescueAfter     = 24 * time.Hour
	minLivenessTick    = 100 * time.Millisecond
	maxLivenessTick    = time.Minute
	minAuditVerify     = time.Minute
	maxAuditVerify     = 7 * 24 * time.Hour
)

// normalize puts values into canonical form before validation: log level and
// format lower-cased, data_dir absolute and clean.
func (c *Config) normalize() error {
	c.Logging.Level = strings.ToLower(strings.TrimSpace(c.Logging.Level))
	c.Logging.Format = strings.ToLower(strings.TrimSpace(c.Logging.Format))
	if c.Server.DataDir != "" {
		abs, err := filepath.Abs(c.Server.DataDir)
		if err != nil {
			return fmt.Errorf("config: server.data_dir: %w", err)
		}
		c.Server.DataDir = abs
	}
	return nil
}

// Validate reports every value out of range or malformed, one error per key,
// each message starting "config: section.key:". Load calls it; a Config built
// by hand can be checked with it too.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+key+": "+format, args...))
	}

	s := c.Server
	if err := checkHostPort(s.Listen); err != nil {
		bad("server.listen", "%v", err)
	}
	if s.ProfileListen != "" {
		if err := checkLoopbackHostPort(s.ProfileListen); err != nil {
			bad("server.profile_listen", "%v", err)
		}
	}
	if s.DataDir == "" {
		bad("server.data_dir", "must not be empty")
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, errors.New("config: server.tls_cert and server.tls_key must be set together"))
	}
	if n, err := parseSize(s.BodyLimit); err != nil {
		bad("server.body_limit", "%v", err)
	} else if n < minBodyLimit || n > maxBodyLimit {
		bad("server.body_limit", "must be between 1KiB and 1GiB")
	}
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("server.public_url", "%q is not an absolute http or https URL", s.PublicURL)
		}
	}

	m := c.Metrics
	if m.Listen != "" {
		if err := checkHostPort(m.Listen); err != nil {
			bad("metrics.listen", "%v", err)
		}
	}
	if m.WorkerListen != "" {
		if err := checkHostPort(m.WorkerListen); err != nil {
			bad("metrics.worker_listen", "%v", err)
		}
	}
	if m.BearerTokenFile != "" && (m.BasicUsername != "" || m.BasicPassword != "") {
		errs = append(errs, errors.New("config: metrics.bearer_token_file and metrics basic auth exclude each other: set one"))
	}
	if (m.BasicUsername == "") != (m.BasicPassword == "") {
		errs = append(errs, errors.New("config: metrics.basic_username and metrics.basic_password must be set together"))
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		errs = append(errs, errors.New("config: metrics.tls_cert and metrics.tls_key must be set together"))
	}

	d := c.Database
	if err := checkDSN(d.DSN); err != nil {
		bad("database.dsn", "%v", err)
	}
	if d.MaxConnections != 0 && (d.MaxConnections < minMaxConnections || d.MaxConnections > maxMaxConnections) {
		bad("database.max_connections", "must be 0 (sized from the CPUs) or between %d and %d", minMaxConnections, maxMaxConnections)
	}

	l := c.Logging
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		bad("logging.level", "%q is not one of debug, info, warn, error", l.Level)
	}
	if !slices.Contains([]string{"json", "text"}, l.Format) {
		bad("logging.format", "%q is not one of json, text", l.Format)
	}

	a := c.Auth
	if a.AccessTokenTTL.Duration < minAccessTokenTTL || a.AccessTokenTTL.Duration > maxAccessTokenTTL {
		bad("auth.access_token_ttl", "must be between %s and %s", Duration{minAccessTokenTTL}, Duration{maxAccessTokenTTL})
	}
	if a.RefreshTokenTTL.Duration < a.AccessTokenTTL.Duration || a.RefreshTokenTTL.Duration > maxRefreshTokenTTL {
		bad("auth.refresh_token_ttl", "must be between auth.access_token_ttl (%s) and %s", a.AccessTokenTTL, Duration{maxRefreshTokenTTL})
	}
	if a.SessionIdleTimeout.Duration < minIdleTimeout || a.SessionIdleTimeout.Duration > a.RefreshTokenTTL.Duration {
		bad("auth.session_idle_timeout", "must be between %s and auth.refresh_token_ttl (%s)", Duration{minIdleTimeout}, a.RefreshTokenTTL)
	}
	if a.LoginBurst < 1 || a.LoginBurst > 100_000 {
		bad("auth.login_burst", "must be between 1 and 100000")
	}
	if a.LoginRatePerMinute < 1 || a.LoginRatePerMinute > 100_000 {
		bad("auth.login_rate_per_minute", "must be between 1 and 100000")
	}

	w := c.Worker
	if w.Concurrency < 1 || w.Concurrency > maxConcurrency {
		bad("worker.concurrency", "must be between 1 and %d", maxConcurrency)
	}
	if w.RescueAfter.Duration < minRescueAfter || w.RescueAfter.Duration > maxRescueAfter {
		bad("worker.rescue_after", "must be between %s and %s", Duration{minRescueAfter}, Duration{maxRescueAfter})
	}
	if t := w.LivenessTick.Duration; t != 0 && (t < minLivenessTick || t > maxLivenessTick) {
		bad("worker.liveness_tick", "must be 0 (off) or between %s and %s", Duration{minLivenessTick}, Duration{maxLivenessTick})
	}
	al := c.Alerts
	if al.ScoreDropPoints < 1 || al.ScoreDropPoints > 100 {
		bad("alerts.score_drop_points", "must be between 1 and 100")
	}
	if al.ScoreFloorPercent < 0 || al.ScoreFloorPercent > 100 {
		bad("alerts.score_floor_percent", "must be between 0 (off) and 100")
	}
	if al.FleetScoreDropPoints < 1 || al.FleetScoreDropPoints > 100 {
		bad("alerts.fleet_score_drop_points", "must be between 1 and 100")
	}
	if al.FleetScoreFloorPercent < 0 || al.FleetScoreFloorPercent > 100 {
		bad("alerts.fleet_score_floor_percent", "must be between 0 (off) and 100")
	}
	if al.FleetScoreWindowHours < 1 || al.FleetScoreWindowHours > 720 {
		bad("alerts.fleet_score_window_hours", "must be between 1 and 720")
	}
	if al.ScanFailures < 1 || al.ScanFailures > 100 {
		bad("alerts.scan_failures", "must be between 1 and 100")
	}
	if d := al.AuditVerifyInterval.Duration; d != 0 && (d < minAuditVerify || d > maxAuditVerify) {
		bad("alerts.audit_verify_interval", "must be 0 (off) or between %s and %s", Duration{minAuditVerify}, Duration{maxAuditVerify})
	}
	if d := c.Compliance.ExceptionMaxDays; d < 1 || d > 3650 {
		bad("compliance.exception_max_days", "must be between 1 and 3650")
	}
	if d := c.Compliance.ExceptionExpiringDays; d < 0 || d > 365 {
		bad("compliance.exception_expiring_days", "must be between 0 and 365")
	}
	if len(c.Notifications.AllowedNetworks) == 0 {
		bad("notifications.allowed_networks", "must name at least one network, such as 10.0.0.0/8 (0.0.0.0/0,::/0 allows every address)")
	}
	if len(c.SSH.AllowedNetworks) == 0 {
		bad("ssh.allowed_networks", "must name at least one network, such as 127.0.0.0/8 (0.0.0.0/0,::/0 allows every address)")
	}
	return errors.Join(errs...)
}

// checkHostPort accepts host:port with an optional host and a numeric port.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("%q is not host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q is not host:port with a port number from 0 to 65535", s)
	}
	return nil
}

// checkLoopbackHostPort accepts host:port whose host is localhost or a loopback address.
func checkLoopbackHostPort(s string) error {
	if err := checkHostPort(s); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(s)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q must be on a loopback address such as 127.0.0.1: profiles are for this machine only", s)
	}
	return nil
}

// checkDSN rejects a URL-form DSN that is not a PostgreSQL URL. The
// key=value form is left to the driver. The error never repeats the
// password.
func checkDSN(dsn string) error {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok || !isScheme(scheme) {
		return nil
	}
	if scheme != "postgres" && scheme != "postgresql" {
		return fmt.Errorf("%q is not a postgres:// or postgresql:// URL", RedactDSN(dsn))
	}
	if _, err := url.Parse(dsn); err != nil {
		return fmt.Errorf("%q is not a valid URL; escape special characters in the password with %%XX", RedactDSN(dsn))
	}
	return nil
}
