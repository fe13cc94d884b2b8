package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MinServerVersion is the oldest PostgreSQL OpenWatch supports, as server_version_num.
const MinServerVersion = 130000

// ServerVersion returns the server's server_version_num, for example 150018 for 15.18.
func ServerVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		return 0, fmt.Errorf("read server version: %w", Translate(err))
	}
	return v, nil
}

// CheckServerVersion returns an error naming the server's major version when it is older
// than PostgreSQL 13.
func CheckServerVersion(ctx context.Context, pool *pgxpool.Pool) error {
	v, err := ServerVersion(ctx, pool)
	if err != nil {
		return err
	}
	return checkVersionNum(v)
}

func checkVersionNum(v int) error {
	if v >= MinServerVersion {
		return nil
	}
	major := fmt.Sprint(v / 10000)
	if v < 100000 {
		// Before PostgreSQL 10 the major version had two parts, 9.6 being 90600.
		major = fmt.Sprintf("%d.%d", v/10000, v/100%100)
	}
	return fmt.Errorf("PostgreSQL %s is too old: OpenWatch needs PostgreSQL 13 or newer", major)
}
