package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// tarNames lists the files of a gzip tarball, without their top directory.
func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		require.NoError(t, err)
		names = append(names, path.Base(hdr.Name))
	}
}

func TestSysdumpCommand(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	vars := map[string]string{"OPENWATCH_DATABASE_DSN": dsn, "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	r := runWith(t, api.SpecJSON, "", vars, "sysdump", "--output", out)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "wrote "+out)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	names := tarNames(t, data)
	require.Subset(t, names, []string{"MANIFEST.json", "config.toml", "migrations.txt", "tables.json", "queue.json", "logs.NOTE.txt", "metrics.NOTE.txt"})

	// To standard output, and audited as the system both times.
	r = runWith(t, api.SpecJSON, "", vars, "sysdump", "--output", "-")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, tarNames(t, []byte(r.stdout)), "MANIFEST.json")
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	defer pool.Close()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE action = 'support.sysdump_created' AND actor_type = 'system'`).Scan(&n))
	require.Equal(t, 2, n)
}
