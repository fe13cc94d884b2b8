package settings_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/settings"
)

type sample struct {
	Interval int  `json:"interval"`
	Enabled  bool `json:"enabled"`
	Added    int  `json:"added"`
}

func TestLoadAndSave(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	defaults := sample{Interval: 300, Enabled: true, Added: 7}

	got, err := settings.Load(ctx, pool, "sample", defaults)
	require.NoError(t, err)
	require.Equal(t, defaults, got, "a missing document reads as the defaults")

	require.NoError(t, settings.Save(ctx, pool, "sample", sample{Interval: 60, Enabled: false, Added: 1}, nil))
	got, err = settings.Load(ctx, pool, "sample", defaults)
	require.NoError(t, err)
	require.Equal(t, sample{Interval: 60, Enabled: false, Added: 1}, got)

	// A document written before a field existed keeps that field's default.
	_, err = pool.Exec(ctx, `UPDATE settings SET value = '{"interval": 120}' WHERE key = 'sample'`)
	require.NoError(t, err)
	got, err = settings.Load(ctx, pool, "sample", defaults)
	require.NoError(t, err)
	require.Equal(t, sample{Interval: 120, Enabled: true, Added: 7}, got)

	// A service account leaves updated_by empty; a corrupt document is an error, not defaults.
	require.NoError(t, settings.Save(ctx, pool, "sample", defaults, &authz.Principal{ServiceAccountID: uuid.New(), TokenID: uuid.New()}))
	_, err = pool.Exec(ctx, `UPDATE settings SET value = '[1]' WHERE key = 'sample'`)
	require.NoError(t, err)
	_, err = settings.Load(ctx, pool, "sample", defaults)
	require.Error(t, err)
}
