package pg_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func TestUUIDRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pgtest.NewDSN(t), 2, nil)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, b := uuid.New(), uuid.New()

	// Binary format (the extended protocol's default for uuid).
	var got uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", a).Scan(&got))
	require.Equal(t, a, got)
	var text string
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid::text", a).Scan(&text))
	require.Equal(t, a.String(), text)

	// NULL and non-NULL through pointers.
	var ptr *uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT NULL::uuid").Scan(&ptr))
	require.Nil(t, ptr)
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", &b).Scan(&ptr))
	require.Equal(t, b, *ptr)
	var isNull bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid IS NULL", (*uuid.UUID)(nil)).Scan(&isNull))
	require.True(t, isNull)
	require.Error(t, pool.QueryRow(ctx, "SELECT NULL::uuid").Scan(&got), "NULL into a non-pointer")

	// Arrays both ways.
	var list []uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid[]", []uuid.UUID{a, b}).Scan(&list))
	require.Equal(t, []uuid.UUID{a, b}, list)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM unnest($1::uuid[]) u WHERE u = $2", []uuid.UUID{a, b}, b).Scan(&n))
	require.Equal(t, 1, n)

	// Text format (the simple protocol).
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", pgx.QueryExecModeSimpleProtocol, a).Scan(&got))
	require.Equal(t, a, got)

	// Other uuid values still go through pgtype's own codec.
	var pu pgtype.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", pgtype.UUID{Bytes: b, Valid: true}).Scan(&pu))
	require.Equal(t, [16]byte(b), pu.Bytes)
	var s string
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid::text", a.String()).Scan(&s))
	require.Equal(t, a.String(), s)
}

// TestUUIDPlansAreNative guards the speed-up: a uuid.UUID is encoded and scanned by the
// registered codec, not through driver.Valuer and sql.Scanner (which format an error for
// every binary parameter before falling back to text).
func TestUUIDPlansAreNative(t *testing.T) {
	m := pgtype.NewMap()
	pg.RegisterUUID(m)
	u := uuid.New()
	buf, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u, nil)
	require.NoError(t, err)
	require.Equal(t, u[:], buf)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u, buf[:0])
	})
	require.LessOrEqual(t, allocs, 1.0, "encoding a uuid.UUID allocates: it is not on the native plan")
	var got uuid.UUID
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, u[:], &got))
	require.Equal(t, u, got)
}
