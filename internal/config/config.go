package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DefaultConfigPath is the TOML file Load reads when Sources.ConfigPath is
// empty.
const DefaultConfigPath = "/etc/openwatch/openwatch.toml"

// DefaultSecretsEnvPath is the secrets file Load reads when
// Sources.SecretsEnvPath is empty.
const DefaultSecretsEnvPath = "/etc/openwatch/secrets.env"

// Config is the complete, resolved OpenWatch configuration. Each field's toml
// tag names its key; the same name, upper-cased and prefixed, is its
// environment variable, and dashed, its flag (see the package doc).
type Config struct {
	Server   ServerConfig   `toml:"server"`
	Database DatabaseConfig `toml:"database"`
	Logging  LoggingConfig  `toml:"logging"`
	Auth     AuthConfig     `toml:"auth"`
	Secrets  SecretsConfig  `toml:"secrets"`
	License  LicenseConfig  `toml:"license"`
	Worker   WorkerConfig   `toml:"worker"`
	SSH      SSHConfig      `toml:"ssh"`
	// Notifications limits where notification webhooks and mail may go.
	Notifications NotificationsConfig `toml:"notifications"`
	// Alerts tunes the alert sources: score drops, failing scans, the audit chain check.
	Alerts AlertsConfig `toml:"alerts"`
	// Compliance bounds exceptions (risk acceptance).
	Compliance ComplianceConfig `toml:"compliance"`
	// Metrics serves Prometheus metrics on a listener of its own.
	Metrics MetricsConfig `toml:"metrics"`
}

// MetricsConfig configures the Prometheus metrics listener (GET /metrics), separate from
// the API's: loopback by default, plain HTTP unless a certificate is given, and open
// unless a bearer token file or basic auth is set.
type MetricsConfig struct {
	Listen          string `toml:"listen" help:"{host:port} serving Prometheus metrics at /metrics, such as 127.0.0.1:9464; empty serves none. Another address than loopback should set bearer_token_file or basic auth"`
	WorkerListen    string `toml:"worker_listen" help:"{host:port} where an 'openwatch worker' process serves its metrics instead of listen, so it can run beside serve on one machine; empty serves none"`
	BearerTokenFile string `toml:"bearer_token_file" help:"{file} holding the bearer token scrapers must send (Authorization: Bearer); empty asks for none"`
	BasicUsername   string `toml:"basic_username" help:"user {name} scrapers must send with basic auth; set with basic_password"`
	BasicPassword   string `toml:"basic_password" secret:"true" help:"{password} scrapers must send with basic auth"`
	TLSCert         string `toml:"tls_cert" help:"PEM certificate chain {file} that turns the metrics listener into HTTPS; empty serves plain HTTP"`
	TLSKey          string `toml:"tls_key" help:"PEM private key {file} for metrics.tls_cert"`
}

// MetricsAuth names the authentication the metrics listener asks for: "bearer", "basic"
// or "none".
func (m MetricsConfig) MetricsAuth() string {
	switch {
	case m.BearerTokenFile != "":
		return "bearer"
	case m.BasicUsername != "":
		return "basic"
	default:
		return "none"
	}
}

// Warnings returns what is allowed but unwise in the configuration, one sentence each
// (check-config prints them): today, metrics served beyond this machine without auth.
func (c Config) Warnings() []string {
	var out []string
	m := c.Metrics
	for _, l := range []struct{ key, addr string }{{"metrics.listen", m.Listen}, {"metrics.worker_listen", m.WorkerListen}} {
		if l.addr != "" && m.MetricsAuth() == "none" && checkLoopbackHostPort(l.addr) != nil {
			out = append(out, fmt.Sprintf("%s %s is not a loopback address and no authentication is set (metrics.bearer_token_file or metrics.basic_username): anyone who can reach it reads the metrics", l.key, l.addr))
		}
	}
	return out
}

// AlertsConfig holds the thresholds of the alert sources that judge numbers: a host's or
// the fleet's score of a framework (pass / (pass + fail), in percent) dropping or below a
// floor, a host's scans failing in a row (the defaults of the runtime thresholds that PUT
// /system/alerts/config changes), and how often the audit chain is verified.
type AlertsConfig struct {
	ScoreDropPoints        int      `toml:"score_drop_points" help:"a host's framework score falling by at least this {number} of percentage points in one scan raises score_drop (1 to 100)"`
	ScoreFloorPercent      int      `toml:"score_floor_percent" help:"a host's framework score below this {percent} raises score_drop (0 to 100; 0 turns the floor off)"`
	FleetScoreDropPoints   int      `toml:"fleet_score_drop_points" help:"the fleet's framework score falling by at least this {number} of percentage points within fleet_score_window raises fleet_score_drop (1 to 100)"`
	FleetScoreFloorPercent int      `toml:"fleet_score_floor_percent" help:"the fleet's framework score below this {percent} raises fleet_score_drop (0 to 100; 0 turns the floor off)"`
	FleetScoreWindowHours  int      `toml:"fleet_score_window_hours" help:"{hours} over which a fleet score drop is measured, from its highest score in the window (1 to 720)"`
	ScanFailures           int      `toml:"scan_failures" help:"{number} of a host's scans failing in a row (cancelled ones aside) that raises scan_failing (1 to 100)"`
	AuditVerifyInterval    Duration `toml:"audit_verify_interval" help:"{duration} between two verifications of the audit chain, 1m to 7d; a broken chain raises audit_chain_broken; 0 turns the periodic check off"`
}

// ComplianceConfig bounds exceptions: how long one may last and how early before its
// expiry an approved one raises an exception_expiring alert.
type ComplianceConfig struct {
	ExceptionMaxDays      int `toml:"exception_max_days" help:"longest lifetime of an exception in {days} from its request (1 to 3650)"`
	ExceptionExpiringDays int `toml:"exception_expiring_days" help:"{days} before an approved exception's expiry that an exception_expiring alert is raised (0 to 365; 0 raises none)"`
}

// NotificationsConfig limits the addresses outbound notifications (webhooks, Slack, SMTP)
// may connect to, checked when they connect, so a name resolving to a refused address is
// refused too.
type NotificationsConfig struct {
	AllowedNetworks Networks `toml:"allowed_networks" help:"{networks} notification webhooks and SMTP servers may be reached in, comma-separated CIDRs; 0.0.0.0/0,::/0 allows every address not denied"`
	DeniedNetworks  Networks `toml:"denied_networks" help:"{networks} notifications never reach, comma-separated CIDRs; the default refuses link-local and cloud metadata addresses (169.254.0.0/16,fe80::/10); empty denies none"`
}

// SSHConfig limits where the server's SSH connections may go: liveness probes, logins,
// discovery and network range scans alike.
type SSHConfig struct {
	// AllowedNetworks are the only networks SSH connections and probes may reach; an
	// address outside them is refused before anything is sent (error_type not_allowed).
	// Production allows everything; tests, benchmarks and development set loopback.
	AllowedNetworks Networks `toml:"allowed_networks" help:"{networks} SSH connections, probes and range scans may reach, comma-separated CIDRs such as 10.0.0.0/8,fd00::/8; any other address is refused before it is contacted; 127.0.0.0/8,::1/128 keeps to this machine"`
}

// WorkerConfig configures background jobs (River): how many run at once in this process,
// whether serve runs them too, and when a job of a dead process is run again.
type WorkerConfig struct {
	Concurrency int      `toml:"concurrency" help:"largest {number} of jobs this process runs at once (1 to 10000)"`
	WithWorker  bool     `toml:"with_worker" help:"serve runs background jobs in-process too ({bool}); false leaves them to 'openwatch worker' processes"`
	RescueAfter Duration `toml:"rescue_after" help:"{duration} after which a job still marked running (its process died) is run again, 1s to 24h; a job may run for half of it before its context is cancelled"`
	// LivenessTick is how often the liveness poller runs (a periodic job, once per cluster).
	LivenessTick Duration `toml:"liveness_tick" help:"{duration} between two rounds of the liveness poller, 100ms to 1m; 0 turns polling off (on-demand connectivity checks still work)"`
}

// LicenseConfig says where the license and the keys trusted to sign licenses are.
type LicenseConfig struct {
	File            string `toml:"file" help:"license JWT {file}; empty uses <data_dir>/license.jwt (written by PUT /admin/license), or the free tier when that is absent. Re-read on SIGHUP"`
	TrustedKeysFile string `toml:"trusted_keys_file" help:"JWK set {file} of extra Ed25519 public keys trusted to sign licenses"`
}

// SecretsConfig configures how secrets are sealed at rest.
type SecretsConfig struct {
	KeyFile string `toml:"key_file" help:"AES-256 key {file} that seals secrets at rest; empty uses <data_dir>/keys/secrets.key, generated (0600) on first start"`
}

// ServerConfig configures the HTTPS listener and where the server keeps its
// files.
type ServerConfig struct {
	Listen    string `toml:"listen" help:"{host:port} the HTTPS server listens on"`
	DataDir   string `toml:"data_dir" help:"{directory} for generated keys, certificates and the managed database"`
	TLSCert   string `toml:"tls_cert" help:"PEM certificate chain {file}; empty generates a self-signed pair under <data_dir>/tls"`
	TLSKey    string `toml:"tls_key" help:"PEM private key {file} for tls_cert"`
	TLSCA     string `toml:"tls_ca" help:"optional CA bundle {file} that clients should trust (reported, not served)"`
	BodyLimit string `toml:"body_limit" help:"largest request body accepted, a {size} such as 512KiB, 2MiB or 1048576"`
	PublicURL string `toml:"public_url" help:"optional external {URL} of this server, such as https://openwatch.example.com"`
	// ProfileListen serves the Go runtime's profiles (net/http/pprof) over plain HTTP on a
	// loopback address, for diagnosing speed and memory; off unless set.
	ProfileListen string `toml:"profile_listen" help:"loopback {host:port} such as 127.0.0.1:6060 serving Go runtime profiles (pprof) over plain HTTP to this machine only; empty serves none"`
}

// DatabaseConfig configures the PostgreSQL connection.
type DatabaseConfig struct {
	DSN string `toml:"dsn" secret:"true" help:"PostgreSQL connection string ({DSN}); empty runs a managed local cluster under <data_dir>/pg"`
	// MaxConnections 0 sizes the pool from the CPUs (MaxConnectionsFor).
	MaxConnections int `toml:"max_connections" help:"largest {number} of pooled database connections (1 to 1000); 0 sizes the pool from the CPUs: four per CPU, from 8 to 20"`
}

// LoggingConfig configures the process logger.
type LoggingConfig struct {
	Level  string `toml:"level" help:"least severe {level} logged: debug, info, warn or error"`
	Format string `toml:"format" help:"log line {format}: json or text"`
}

// AuthConfig configures token signing and session lifetimes.
type AuthConfig struct {
	SigningKeyFile     string   `toml:"signing_key_file" help:"JWK {file} holding the token signing key; empty uses <data_dir>/keys/jwt-signing.jwk, generated on first start"`
	AccessTokenTTL     Duration `toml:"access_token_ttl" help:"lifetime of an access token, a {duration} from 1m to 24h"`
	RefreshTokenTTL    Duration `toml:"refresh_token_ttl" help:"lifetime of a refresh token, a {duration} that is also the absolute session deadline"`
	LoginBurst         int      `toml:"login_burst" help:"sign-in attempts a client address may make at once before the rate limit ({number}, 1 to 100000)"`
	LoginRatePerMinute int      `toml:"login_rate_per_minute" help:"sign-in attempts per minute a client address regains after its burst ({number}, 1 to 100000)"`
	SessionIdleTimeout Duration `toml:"session_idle_timeout" help:"{duration} a session may stay unused before it ends"`
}

// Default returns the configuration used for every key that no source sets.
func Default() Config {
	return Config{
		Server: ServerConfig{
			Listen:    "0.0.0.0:8443",
			DataDir:   "/var/lib/openwatch",
			BodyLimit: "2MiB",
		},
		Database: DatabaseConfig{
			MaxConnections: 0,
		},
		Logging: LoggingConfig{
			Level:  "info",
			Format: "json",
		},
		Auth: AuthConfig{
			AccessTokenTTL:     Duration{15 * time.Minute},
			RefreshTokenTTL:    Duration{12 * time.Hour},
			SessionIdleTimeout: Duration{30 * time.Minute},
			LoginBurst:         10,
			LoginRatePerMinute: 12,
		},
		Worker: WorkerConfig{
			Concurrency:  20,
			WithWorker:   true,
			RescueAfter:  Duration{time.Minute},
			LivenessTick: Duration{time.Second},
		},
		SSH: SSHConfig{
			AllowedNetworks: AllNetworks(),
		},
		Compliance: ComplianceConfig{ExceptionMaxDays: 365, ExceptionExpiringDays: 7},
		Metrics:    MetricsConfig{Listen: "127.0.0.1:9464", WorkerListen: "127.0.0.1:9465"},
		Notifications: NotificationsConfig{
			AllowedNetworks: AllNetworks(),
			DeniedNetworks:  Networks{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10")},
		},
		Alerts: AlertsConfig{
			ScoreDropPoints:        10,
			ScoreFloorPercent:      70,
			FleetScoreDropPoints:   10,
			FleetScoreFloorPercent: 70,
			FleetScoreWindowHours:  24,
			ScanFailures:           3,
			AuditVerifyInterval:    Duration{time.Hour},
		},
	}
}

// defaultBodyLimit is the body limit in bytes that Default's "2MiB" stands for.
const defaultBodyLimit = 2 << 20

// BodyLimitBytes returns server.body_limit in bytes. Load rejects a limit that
// does not parse; for a Config built by hand with such a value it returns the
// default of 2 MiB.
func (c Config) BodyLimitBytes() int64 {
	n, err := parseSize(c.Server.BodyLimit)
	if err != nil {
		return defaultBodyLimit
	}
	return n
}

// TLSDir returns the directory that holds the generated certificate authority
// and server certificate: <data_dir>/tls.
func (c Config) TLSDir() string {
	return filepath.Join(c.Server.DataDir, "tls")
}

// PoolSize returns database.max_connections, or for 0 a size from the CPUs the process may
// use: four per CPU, at least 8 and at most 20. More connections than that only make the
// database's backends take turns on the CPUs, which lengthens the slowest answers (on two
// CPUs, 20 connections had a p99 half again as long as 8 for a host detail).
func (c Config) PoolSize() int {
	if c.Database.MaxConnections > 0 {
		return c.Database.MaxConnections
	}
	return min(20, max(8, 4*runtime.GOMAXPROCS(0)))
}

// ManagedDatabase reports whether no DSN is configured, in which case the
// server runs its own PostgreSQL cluster (internal/pg/cluster chooses where:
// <data_dir>/pg, or elsewhere when PostgreSQL's user cannot enter the data dir).
func (c Config) ManagedDatabase() bool {
	return c.Database.DSN == ""
}

// SigningKeyPath returns auth.signing_key_file, or
// <data_dir>/keys/jwt-signing.jwk when it is empty.
func (c Config) SigningKeyPath() string {
	if c.Auth.SigningKeyFile != "" {
		return c.Auth.SigningKeyFile
	}
	return filepath.Join(c.Server.DataDir, "keys", "jwt-signing.jwk")
}

// SecretsKeyPath returns secrets.key_file, or <data_dir>/keys/secrets.key when it is empty.
func (c Config) SecretsKeyPath() string {
	if c.Secrets.KeyFile != "" {
		return c.Secrets.KeyFile
	}
	return filepath.Join(c.Server.DataDir, "keys", "secrets.key")
}

// CertificateNames returns the host names and addresses, beyond localhost and
// the machine's host name, that a generated server certificate should cover:
// the host of server.public_url and a specific (not wildcard) listen address.
func (c Config) CertificateNames() []string {
	var names []string
	if u, err := url.Parse(c.Server.PublicURL); err == nil && u.Hostname() != "" {
		names = append(names, strings.ToLower(u.Hostname()))
	}
	if host, _, err := net.SplitHostPort(c.Server.Listen); err == nil && host != "" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsUnspecified() {
			names = append(names, strings.ToLower(host))
		}
	}
	return names
}
