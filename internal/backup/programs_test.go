package backup

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLibpqConn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, dsn, conninfo, password string
	}{
		{"url", "postgres://ow:s3cr%27et@db.internal:5433/openwatch?sslmode=verify-full&pool_max_conns=10",
			`dbname='openwatch' host='db.internal' port='5433' sslmode='verify-full' user='ow'`, "s3cr'et"},
		{"url without port or password", "postgresql://ow@db/openwatch", `dbname='openwatch' host='db' user='ow'`, ""},
		{"keyword/value", `host=/run/pg port=5432 user=openwatch password=pw dbname=openwatch statement_cache_capacity=0`,
			`dbname='openwatch' host='/run/pg' port='5432' user='openwatch'`, "pw"},
		{"escaped value", `host=/run/pg user=ow password='a\'b c' dbname='my db'`,
			`dbname='my db' host='/run/pg' user='ow'`, "a'b c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conninfo, password, err := libpqConn(tc.dsn)
			require.NoError(t, err)
			require.Equal(t, tc.conninfo, conninfo)
			require.Equal(t, tc.password, password)
		})
	}
	_, _, err := libpqConn("host='unterminated")
	require.ErrorContains(t, err, "unterminated")
}
