package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestRunStartsAndStopsPostgres(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	noEnv := func(string) string { return "" }
	code := run([]string{"--", "sh", "-c", `echo "$OPENWATCH_TEST_DSN"; exit 3`}, noEnv, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, 3, code, "stderr: %s", stderr.String())
	dsn := strings.TrimSpace(stdout.String())
	require.True(t, strings.HasPrefix(dsn, "postgres://postgres@127.0.0.1:"), dsn)
	require.Contains(t, stderr.String(), "withpg: postgres ready in")

	_, err := pgx.Connect(context.Background(), dsn+"&connect_timeout=2")
	require.Error(t, err, "the server is stopped once the command ends")
}

func TestRunWithDSNSetOnlyRunsTheCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	set := func(string) string { return "postgres://example.invalid/db" }
	code := run([]string{"--", "sh", "-c", "cat; kill -TERM $$"}, set, strings.NewReader("in\n"), &stdout, &stderr)
	require.Equal(t, 128+15, code, "a command killed by SIGTERM exits like in a shell")
	require.Equal(t, "in\n", stdout.String(), "stdin and stdout pass through")
	require.Empty(t, stderr.String())

	require.Equal(t, 2, run(nil, set, nil, &stdout, &stderr))
	require.Equal(t, 127, run([]string{"--", "/nonexistent/program"}, set, nil, &stdout, &stderr))
}
