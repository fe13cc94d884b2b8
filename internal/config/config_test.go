package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// layers is the input of one Load call, written as file contents and maps
// so a table row reads like the situation it sets up.
type layers struct {
	toml     string            // Contents of the config file; "" leaves no file.
	secrets  string            // Contents of the secrets file; "" leaves no file.
	environ  []string          // Process environment.
	getenv   map[string]string // Served by Getenv, used only when environ is nil.
	flags    map[string]string // Sources.Flags.
	explicit bool              // Sources.ConfigExplicit.
}

// load writes the files of l into a temporary directory and calls Load.
func load(t *testing.T, l layers) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	src := Sources{
		ConfigPath:     filepath.Join(dir, "openwatch.toml"),
		ConfigExplicit: l.explicit,
		SecretsEnvPath: filepath.Join(dir, "secrets.env"),
		Environ:        l.environ,
		Flags:          l.flags,
	}
	if l.toml != "" {
		require.NoError(t, os.WriteFile(src.ConfigPath, []byte(l.toml), 0o644))
	}
	if l.secrets != "" {
		require.NoError(t, os.WriteFile(src.SecretsEnvPath, []byte(l.secrets), 0o600))
	}
	if l.getenv != nil {
		src.Getenv = func(k string) string { return l.getenv[k] }
	}
	return Load(src)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)

	tests := []struct {
		name   string
		layers layers
		want   func(c *Config)
	}{
		{
			name:   "defaultsWithoutAnySource",
			layers: layers{},
			want:   func(c *Config) {},
		},
		{
			name: "tomlOverridesDefaults",
			layers: layers{toml: `
[server]
listen = "127.0.0.1:9443"
data_dir = "/srv/openwatch"
tls_cert = "/etc/ssl/ow.crt"
tls_key = "/etc/ssl/ow.key"
body_limit = "512KiB"
public_url = "https://ow.example.com"

[database]
dsn = "postgres://ow:pw@db.example.com/ow"
max_connections = 50

[logging]
level = "debug"
format = "text"

[auth]
access_token_ttl = "5m"
refresh_token_ttl = "24h"
session_idle_timeout = "1h"
`},
			want: func(c *Config) {
				c.Server.Listen = "127.0.0.1:9443"
				c.Server.DataDir = "/srv/openwatch"
				c.Server.TLSCert = "/etc/ssl/ow.crt"
				c.Server.TLSKey = "/etc/ssl/ow.key"
				c.Server.BodyLimit = "512KiB"
				c.Server.PublicURL = "https://ow.example.com"
				c.Database.DSN = "postgres://ow:pw@db.example.com/ow"
				c.Database.MaxConnections = 50
				c.Logging.Level = "debug"
				c.Logging.Format = "text"
				c.Auth.AccessTokenTTL = Duration{5 * time.Minute}
				c.Auth.RefreshTokenTTL = Duration{24 * time.Hour}
				c.Auth.SessionIdleTimeout = Duration{time.Hour}
			},
		},
		{
			name: "secretsFileOverridesTOML",
			layers: layers{
				toml: "[database]\ndsn = \"postgres://from-toml/ow\"\n",
				secrets: `# Written by the installer.
OPENWATCH_DATABASE_DSN="host=db password=s3cr\"et"

export OPENWATCH_AUTH_SIGNING_KEY_FILE='/etc/openwatch/jwt.jwk'
OPENWATCH_LOGGING_LEVEL = warn
OTHER_TOOL_TOKEN=ignored
`,
			},
			want: func(c *Config) {
				c.Database.DSN = `host=db password=s3cr"et`
				c.Auth.SigningKeyFile = "/etc/openwatch/jwt.jwk"
				c.Logging.Level = "warn"
			},
		},
		{
			name: "envOverridesTOMLAndSecrets",
			layers: layers{
				toml:    "[server]\nlisten = \"127.0.0.1:1\"\n[database]\nmax_connections = 5\n",
				secrets: "OPENWATCH_DATABASE_MAX_CONNECTIONS=6\n",
				environ: []string{
					"OPENWATCH_SERVER_LISTEN=127.0.0.1:2",
					"OPENWATCH_DATABASE_MAX_CONNECTIONS=7",
					"OPENWATCH_AUTH_ACCESS_TOKEN_TTL=10m",
					"OPENWATCH_SERVER_DATA_DIR=/data",
				},
			},
			want: func(c *Config) {
				c.Server.Listen = "127.0.0.1:2"
				c.Server.DataDir = "/data"
				c.Database.MaxConnections = 7
				c.Auth.AccessTokenTTL = Duration{10 * time.Minute}
			},
		},
		{
			name: "flagsOverrideEnv",
			layers: layers{
				toml:    "[logging]\nlevel = \"debug\"\n",
				environ: []string{"OPENWATCH_LOGGING_LEVEL=warn", "OPENWATCH_DATABASE_DSN=postgres://env/ow"},
				flags:   map[string]string{"logging.level": "error", "database.dsn": ""},
			},
			want: func(c *Config) {
				c.Logging.Level = "error"
				c.Database.DSN = ""
			},
		},
		{
			name: "workerSection",
			layers: layers{
				toml:    "[worker]\nconcurrency = 5\nwith_worker = false\n",
				environ: []string{"OPENWATCH_WORKER_RESCUE_AFTER=2s"},
				flags:   map[string]string{"worker.concurrency": "7"},
			},
			want: func(c *Config) {
				c.Worker.Concurrency = 7
				c.Worker.WithWorker = false
				c.Worker.RescueAfter = Duration{2 * time.Second}
			},
		},
		{
			name:   "sshAllowedNetworksFromEnv",
			layers: layers{environ: []string{"OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8, ::1 10.0.1.7/24,::ffff:192.0.2.0/120"}},
			want: func(c *Config) {
				c.SSH.AllowedNetworks = Networks{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
					netip.MustParsePrefix("10.0.1.0/24"), netip.MustParsePrefix("192.0.2.0/24")}
			},
		},
		{
			name:   "sshAllowedNetworksFromTOML",
			layers: layers{toml: "[ssh]\nallowed_networks = \"127.0.0.0/8\"\n"},
			want:   func(c *Config) { c.SSH.AllowedNetworks = LoopbackNetworks()[:1] },
		},
		{
			name:   "workerBoolFromEnv",
			layers: layers{environ: []string{"OPENWATCH_WORKER_WITH_WORKER=false"}},
			want:   func(c *Config) { c.Worker.WithWorker = false },
		},
		{
			name: "emptyEnvValueKeepsTOML",
			layers: layers{
				toml:    "[logging]\nlevel = \"debug\"\n",
				environ: []string{"OPENWATCH_LOGGING_LEVEL="},
			},
			want: func(c *Config) { c.Logging.Level = "debug" },
		},
		{
			name: "getenvUsedWithoutEnviron",
			layers: layers{
				getenv: map[string]string{"OPENWATCH_LOGGING_FORMAT": "text", "OPENWATCH_SERVR_LISTEN": "x"},
			},
			want: func(c *Config) { c.Logging.Format = "text" },
		},
		{
			name: "foreignVariablesIgnored",
			layers: layers{environ: []string{
				"OPENWATCH_TEST_DSN=postgres://test/ow",
				"OPENWATCH_CONFIG=/etc/openwatch/other.toml",
				"OPENWATCH_server_listen=lower-case is not ours",
				"PATH=/usr/bin",
				"NOEQUALSSIGN",
			}},
			want: func(c *Config) {},
		},
		{
			name:   "relativeDataDirMadeAbsolute",
			layers: layers{flags: map[string]string{"server.data_dir": "var/ow"}},
			want:   func(c *Config) { c.Server.DataDir = filepath.Join(wd, "var", "ow") },
		},
		{
			name:   "levelAndFormatLowerCased",
			layers: layers{environ: []string{"OPENWATCH_LOGGING_LEVEL=DEBUG", "OPENWATCH_LOGGING_FORMAT=Text"}},
			want: func(c *Config) {
				c.Logging.Level = "debug"
				c.Logging.Format = "text"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := load(t, tt.layers)
			require.NoError(t, err)
			want := Default()
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		layers  layers
		wantErr string
	}{
		{"unknownTOMLKey", layers{toml: "[server]\nlistn = \"x\"\n"}, "unknown key server.listn"},
		{"unknownTOMLSection", layers{toml: "[metrics]\nport = 9\n"}, "unknown key metrics.port"},
		{"unknownEnvVariable", layers{environ: []string{"OPENWATCH_SERVER_LISTN=x"}}, "config: unknown variable OPENWATCH_SERVER_LISTN in environment"},
		{"unknownSecretsVariable", layers{secrets: "OPENWATCH_DATABASE_PASSWORD=x\n"}, "config: unknown variable OPENWATCH_DATABASE_PASSWORD in secrets file"},
		{"unknownFlagKey", layers{flags: map[string]string{"server.port": "1"}}, `config: unknown flag key "server.port"`},
		{"explicitConfigMissing", layers{explicit: true}, "config: read config file:"},
		{"tomlSyntax", layers{toml: "[server\n"}, "openwatch.toml: line 2"},
		{"tomlWrongType", layers{toml: "[database]\nmax_connections = \"20\"\n"}, "config: database.max_connections: want an integer, not a string"},
		{"tomlSectionNotTable", layers{toml: "server = 1\n"}, "config: server: want a table [server], not an integer"},
		{"tomlBadDuration", layers{toml: "[auth]\naccess_token_ttl = \"2d\"\n"}, `config: auth.access_token_ttl: "2d" is not a duration`},
		{"secretsMalformedLine", layers{secrets: "OPENWATCH_DATABASE_DSN\n"}, "secrets.env: line 1 is not KEY=VALUE"},
		{"secretsUnterminatedQuote", layers{secrets: "OPENWATCH_DATABASE_DSN=\"abc\n"}, "unterminated quoted value"},
		{"listenNotHostPort", layers{environ: []string{"OPENWATCH_SERVER_LISTEN=abc"}}, `config: server.listen: "abc" is not host:port`},
		{"listenPortOutOfRange", layers{environ: []string{"OPENWATCH_SERVER_LISTEN=:70000"}}, `config: server.listen: ":70000" is not host:port with a port number`},
		{"levelUnknown", layers{toml: "[logging]\nlevel = \"loud\"\n"}, `config: logging.level: "loud" is not one of debug, info, warn, error`},
		{"formatUnknown", layers{flags: map[string]string{"logging.format": "xml"}}, `config: logging.format: "xml" is not one of json, text`},
		{"maxConnectionsNegative", layers{toml: "[database]\nmax_connections = -1\n"}, "config: database.max_connections: must be 0 (sized from the CPUs) or between 1 and 1000"},
		{"maxConnectionsTooMany", layers{environ: []string{"OPENWATCH_DATABASE_MAX_CONNECTIONS=1001"}}, "config: database.max_connections: must be 0 (sized from the CPUs) or between 1 and 1000"},
		{"maxConnectionsNotInteger", layers{environ: []string{"OPENWATCH_DATABASE_MAX_CONNECTIONS=abc"}}, `config: database.max_connections: "abc" is not an integer (from OPENWATCH_DATABASE_MAX_CONNECTIONS in environment)`},
		{"workerConcurrencyZero", layers{toml: "[worker]\nconcurrency = 0\n"}, "config: worker.concurrency: must be between 1 and 10000"},
		{"workerRescueTooShort", layers{environ: []string{"OPENWATCH_WORKER_RESCUE_AFTER=500ms"}}, "config: worker.rescue_after: must be between 1s and 24h"},
		{"workerWithWorkerNotBool", layers{environ: []string{"OPENWATCH_WORKER_WITH_WORKER=maybe"}}, `config: worker.with_worker: "maybe" is not true or false`},
		{"workerWithWorkerTOMLString", layers{toml: "[worker]\nwith_worker = \"yes\"\n"}, "config: worker.with_worker: want a boolean, not a string"},
		{"workerLivenessTickTooShort", layers{environ: []string{"OPENWATCH_WORKER_LIVENESS_TICK=10ms"}}, "config: worker.liveness_tick: must be 0 (off) or between 100ms and 1m"},
		{"alertsScoreDropZero", layers{toml: "[alerts]\nscore_drop_points = 0\n"}, "config: alerts.score_drop_points: must be between 1 and 100"},
		{"alertsScoreFloorTooHigh", layers{environ: []string{"OPENWATCH_ALERTS_SCORE_FLOOR_PERCENT=101"}}, "config: alerts.score_floor_percent: must be between 0 (off) and 100"},
		{"alertsFleetDropTooHigh", layers{flags: map[string]string{"alerts.fleet_score_drop_points": "101"}}, "config: alerts.fleet_score_drop_points: must be between 1 and 100"},
		{"alertsFleetFloorNegative", layers{toml: "[alerts]\nfleet_score_floor_percent = -1\n"}, "config: alerts.fleet_score_floor_percent: must be between 0 (off) and 100"},
		{"alertsFleetWindowTooLong", layers{environ: []string{"OPENWATCH_ALERTS_FLEET_SCORE_WINDOW_HOURS=721"}}, "config: alerts.fleet_score_window_hours: must be between 1 and 720"},
		{"alertsScanFailuresZero", layers{environ: []string{"OPENWATCH_ALERTS_SCAN_FAILURES=0"}}, "config: alerts.scan_failures: must be between 1 and 100"},
		{"alertsAuditVerifyTooOften", layers{environ: []string{"OPENWATCH_ALERTS_AUDIT_VERIFY_INTERVAL=5s"}}, "config: alerts.audit_verify_interval: must be 0 (off) or between 1m and 168h"},
		{"sshAllowedNetworksBad", layers{environ: []string{"OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,10.0.0.0/33"}}, `config: ssh.allowed_networks: "10.0.0.0/33" is not a network such as 10.0.0.0/8 or fd00::/8 (from OPENWATCH_SSH_ALLOWED_NETWORKS in environment)`},
		{"sshAllowedNetworksEmpty", layers{toml: "[ssh]\nallowed_networks = \"\"\n"}, "config: ssh.allowed_networks: must name at least one network"},
		{"sshAllowedNetworksTOMLArray", layers{toml: "[ssh]\nallowed_networks = [\"127.0.0.0/8\"]\n"}, "config: ssh.allowed_networks: want a string, not an array"},
		{"tlsCertWithoutKey", layers{toml: "[server]\ntls_cert = \"/a.crt\"\n"}, "config: server.tls_cert and server.tls_key must be set together"},
		{"bodyLimitUnparsable", layers{flags: map[string]string{"server.body_limit": "2 furlongs"}}, `config: server.body_limit: "2 furlongs" is not a size`},
		{"bodyLimitTooSmall", layers{flags: map[string]string{"server.body_limit": "10"}}, "config: server.body_limit: must be between 1KiB and 1GiB"},
		{"publicURLRelative", layers{flags: map[string]string{"server.public_url": "ow.example.com"}}, `config: server.public_url: "ow.example.com" is not an absolute http or https URL`},
		{"profileListenNotLoopback", layers{environ: []string{"OPENWATCH_SERVER_PROFILE_LISTEN=0.0.0.0:6060"}}, `config: server.profile_listen: "0.0.0.0:6060" must be on a loopback address such as 127.0.0.1: profiles are for this machine only`},
		{"profileListenNotHostPort", layers{flags: map[string]string{"server.profile_listen": "6060"}}, `config: server.profile_listen: "6060" is not host:port`},
		{"dataDirEmpty", layers{flags: map[string]string{"server.data_dir": ""}}, "config: server.data_dir: must not be empty"},
		{"dsnWrongScheme", layers{environ: []string{"OPENWATCH_DATABASE_DSN=mysql://u:hunter2@db/ow"}}, `config: database.dsn: "mysql://u:<redacted>@db/ow" is not a postgres://`},
		{"dsnUnparsableURL", layers{environ: []string{"OPENWATCH_DATABASE_DSN=postgres://u:hunter2@db:port/ow"}}, `config: database.dsn: "postgres://u:<redacted>@db:port/ow" is not a valid URL`},
		{"accessTTLTooShort", layers{environ: []string{"OPENWATCH_AUTH_ACCESS_TOKEN_TTL=30s"}}, "config: auth.access_token_ttl: must be between 1m and 24h"},
		{"refreshShorterThanAccess", layers{toml: "[auth]\naccess_token_ttl = \"1h\"\nrefresh_token_ttl = \"30m\"\n"}, "config: auth.refresh_token_ttl: must be between auth.access_token_ttl (1h) and 2160h"},
		{"idleLongerThanRefresh", layers{flags: map[string]string{"auth.session_idle_timeout": "13h"}}, "config: auth.session_idle_timeout: must be between 1m and auth.refresh_token_ttl (12h)"},
		{"idleNotDuration", layers{flags: map[string]string{"auth.session_idle_timeout": "soon"}}, `config: auth.session_idle_timeout: "soon" is not a duration such as 15m or 1h30m (from flag --auth-session-idle-timeout)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.layers)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestLoadJoinsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := load(t, layers{flags: map[string]string{"logging.level": "loud", "logging.format": "xml"}})
	require.ErrorContains(t, err, "logging.level")
	require.ErrorContains(t, err, "logging.format")
}

func TestWriteTOML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dsn      string
		wantLine string
	}{
		{"urlDSNKeepsHostAndDatabase", "postgres://ow:hunter2@db.internal:5432/openwatch?sslmode=require", `dsn = "postgres://ow:<redacted>@db.internal:5432/openwatch?sslmode=require"`},
		{"keyValueDSNKeepsHostAndDatabase", "host=db.internal dbname=openwatch password=hunter2 user=ow", `dsn = "host=db.internal dbname=openwatch password=<redacted> user=ow"`},
		{"emptyDSNStaysEmpty", "", `dsn = ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.Database.DSN = tt.dsn
			var buf bytes.Buffer
			require.NoError(t, c.WriteTOML(&buf))
			require.NotContains(t, buf.String(), "hunter2")
			require.Contains(t, buf.String(), tt.wantLine+"\n")
			require.Contains(t, buf.String(), `access_token_ttl = "15m"`)
		})
	}
}

func TestWriteTOMLReadsBack(t *testing.T) {
	t.Parallel()
	want := Default()
	want.Server.Listen = "127.0.0.1:9443"
	want.Server.PublicURL = "https://ow.example.com"
	want.Database.MaxConnections = 42
	want.Auth.RefreshTokenTTL = Duration{90 * time.Minute}
	want.SSH.AllowedNetworks = LoopbackNetworks()
	var buf bytes.Buffer
	require.NoError(t, want.WriteTOML(&buf))

	got, err := load(t, layers{toml: buf.String(), explicit: true})
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"urlPasswordRedacted", "postgres://u:hunter2@h/db", "postgres://u:<redacted>@h/db"},
		{"postgresqlSchemeRedacted", "postgresql://u:hunter2@h:5433/db", "postgresql://u:<redacted>@h:5433/db"},
		{"urlWithoutPasswordUnchanged", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"},
		{"urlQueryPasswordRedacted", "postgres://h/db?user=u&password=hunter2&sslmode=require", "postgres://h/db?user=u&password=<redacted>&sslmode=require"},
		{"urlEscapedPasswordRedacted", "postgres://u:hun%40ter2@h/db", "postgres://u:<redacted>@h/db"},
		{"urlPasswordWithRawAtRedacted", "postgres://u:hun@ter2@h/db", "postgres://u:<redacted>@h/db"},
		{"urlPasswordWithRawSlashRedacted", "postgres://u:hun/ter2@h/db", "postgres://u:<redacted>@h/db"},
		{"urlPasswordWithRawQuestionMarkRedacted", "postgres://u:hun?ter2@h/db", "postgres://u:<redacted>@h/db"},
		{"urlMultiHostRedacted", "postgres://u:hunter2@h1:5432,h2:5432/db", "postgres://u:<redacted>@h1:5432,h2:5432/db"},
		{"keyValuePasswordRedacted", "host=h password=hunter2 dbname=db", "host=h password=<redacted> dbname=db"},
		{"keyValueQuotedPasswordRedacted", `host=h password='hun ter\'2' dbname=db`, "host=h password=<redacted> dbname=db"},
		{"keyValueSpacedEqualsRedacted", "host = h password = hunter2", "host=h password=<redacted>"},
		{"keyValueSSLPasswordRedacted", "host=h sslpassword=hunter2", "host=h sslpassword=<redacted>"},
		{"keyValueSchemeLookalikeRedacted", "host=h password=hun://ter2", "host=h password=<redacted>"},
		{"malformedWithPasswordRedactedWhole", "host=h password='hunter2", "<redacted>"},
		{"emptyUnchanged", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RedactDSN(tt.in)
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "hunter2")
			require.NotContains(t, got, "ter2")
		})
	}
}

func TestSecretFieldsRedacted(t *testing.T) {
	t.Parallel()
	// Every field tagged secret must be handled by WriteTOML; a new secret
	// field is printed as <redacted> unless it is the DSN.
	for _, f := range fields() {
		if !f.secret {
			continue
		}
		c := Default()
		f.value(&c).SetString("postgres://u:hunter2@h/db")
		var buf bytes.Buffer
		require.NoError(t, c.WriteTOML(&buf))
		require.NotContains(t, buf.String(), "hunter2", f.name())
	}
}

func TestConfigMethods(t *testing.T) {
	t.Parallel()
	c := Default()
	require.Equal(t, int64(2<<20), c.BodyLimitBytes())
	require.Equal(t, "/var/lib/openwatch/tls", c.TLSDir())
	require.Equal(t, "/var/lib/openwatch/keys/jwt-signing.jwk", c.SigningKeyPath())
	require.True(t, c.ManagedDatabase())
	require.Empty(t, c.CertificateNames())

	c.Server.BodyLimit = "not a size"
	require.Equal(t, int64(2<<20), c.BodyLimitBytes())
	c.Database.DSN = "postgres://h/db"
	require.False(t, c.ManagedDatabase())
	c.Auth.SigningKeyFile = "/etc/openwatch/jwt.jwk"
	require.Equal(t, "/etc/openwatch/jwt.jwk", c.SigningKeyPath())
	c.Server.PublicURL = "https://OW.example.com:8443/ui"
	c.Server.Listen = "10.1.2.3:8443"
	require.Equal(t, []string{"ow.example.com", "10.1.2.3"}, c.CertificateNames())
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"512KiB", 512 << 10},
		{"2MiB", 2 << 20},
		{"1GiB", 1 << 30},
		{"2 mib", 2 << 20},
		{"10MB", 10_000_000},
		{"64B", 64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSize(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5MiB", "2TiB", "99999999999999999999"} {
		_, err := parseSize(bad)
		require.Error(t, err, bad)
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{15 * time.Minute, "15m"},
		{12 * time.Hour, "12h"},
		{90 * time.Minute, "1h30m"},
		{90 * time.Second, "1m30s"},
		{0, "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Duration{tt.d}.String())
			var back Duration
			require.NoError(t, back.UnmarshalText([]byte(tt.want)))
			require.Equal(t, tt.d, back.Duration)
		})
	}
}

func TestEnvAndFlagNamesDerivedFromTags(t *testing.T) {
	t.Parallel()
	var envs, flags []string
	for _, f := range fields() {
		envs = append(envs, f.envName())
		flags = append(flags, f.flagName())
	}
	require.Contains(t, envs, "OPENWATCH_SERVER_LISTEN")
	require.Contains(t, envs, "OPENWATCH_DATABASE_DSN")
	require.Contains(t, envs, "OPENWATCH_DATABASE_MAX_CONNECTIONS")
	require.Contains(t, envs, "OPENWATCH_AUTH_ACCESS_TOKEN_TTL")
	require.Contains(t, flags, "server-data-dir")
	require.Contains(t, flags, "auth-session-idle-timeout")
	require.Len(t, fields(), strings.Count(strings.Join(envs, " "), "OPENWATCH_"))
}

func TestPoolSize(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	c := Default()
	require.Zero(t, c.Database.MaxConnections, "sized from the CPUs unless set")
	for procs, want := range map[int]int{1: 8, 2: 8, 3: 12, 4: 16, 5: 20, 64: 20} {
		runtime.GOMAXPROCS(procs)
		require.Equal(t, want, c.PoolSize(), "%d CPUs", procs)
	}
	c.Database.MaxConnections = 3
	require.Equal(t, 3, c.PoolSize(), "a configured size wins")
}
