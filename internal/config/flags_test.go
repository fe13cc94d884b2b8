package config

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		wantFlags map[string]string
		want      func(c *Config)
	}{
		{
			name:      "noFlagsSetYieldsEmptyMap",
			args:      nil,
			wantFlags: map[string]string{},
			want:      func(c *Config) {},
		},
		{
			name: "setFlagsRoundTripThroughLoad",
			args: []string{
				"--server-listen", "127.0.0.1:9443",
				"--server-data-dir=/srv/ow",
				"--database-max-connections", "9",
				"--logging-level", "debug",
				"--auth-access-token-ttl", "5m",
				"--database-dsn", "postgres://u:pw@h/db",
			},
			wantFlags: map[string]string{
				"server.listen":            "127.0.0.1:9443",
				"server.data_dir":          "/srv/ow",
				"database.max_connections": "9",
				"logging.level":            "debug",
				"auth.access_token_ttl":    "5m",
				"database.dsn":             "postgres://u:pw@h/db",
			},
			want: func(c *Config) {
				c.Server.Listen = "127.0.0.1:9443"
				c.Server.DataDir = "/srv/ow"
				c.Database.MaxConnections = 9
				c.Logging.Level = "debug"
				c.Auth.AccessTokenTTL = Duration{5 * time.Minute}
				c.Database.DSN = "postgres://u:pw@h/db"
			},
		},
		{
			name:      "flagSetToEmptyIsKept",
			args:      []string{"--server-public-url="},
			wantFlags: map[string]string{"server.public_url": ""},
			want:      func(c *Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("openwatch", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			set := RegisterFlags(fs)
			require.NoError(t, fs.Parse(tt.args))
			require.Equal(t, tt.wantFlags, set())

			got, err := load(t, layers{flags: set()})
			require.NoError(t, err)
			want := Default()
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

func TestRegisterFlagsDefinesEveryKey(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("openwatch", flag.ContinueOnError)
	RegisterFlags(fs)
	for _, f := range fields() {
		require.NotNil(t, fs.Lookup(f.flagName()), f.flagName())
	}
	require.Equal(t, "0.0.0.0:8443", fs.Lookup("server-listen").DefValue)
	require.Equal(t, "15m", fs.Lookup("auth-access-token-ttl").DefValue)
}

func TestRegisterFlagsRejectsMistypedValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"integerFlagGivenWord", []string{"--database-max-connections", "many"}},
		{"durationFlagGivenDays", []string{"--auth-refresh-token-ttl", "2d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("openwatch", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			RegisterFlags(fs)
			require.Error(t, fs.Parse(tt.args))
		})
	}
}
