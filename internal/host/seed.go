package host

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/pg"
)

// SeedPort is the SSH port of seeded hosts: one nothing listens on, so probing a seeded
// host is refused at once.
const SeedPort = 1

// Seed fills the inventory with n realistic hosts spread over groups (development and
// benchmarks only: `openwatch dev seed`). Rows go in with COPY, so 100,000 hosts take
// seconds, and bypass the audit trail on purpose. Every host is on this machine: its
// address is in 127.1.0.0 to 127.255.255.255 (n at most 16,711,680) and its port is
// SeedPort, so a server with workers polling a seeded inventory never contacts another
// machine.
func Seed(ctx context.Context, pool *pgxpool.Pool, n, groups int) (time.Duration, error) {
	start := time.Now()
	envs := []string{"production", "staging", "development"}
	roles := []string{"web", "db", "cache", "queue", "batch", "edge"}
	dists := []string{"rhel9", "rhel8", "ubuntu22", "debian12", "sles15"}
	groupIDs := make([]uuid.UUID, groups)
	stamp := uuid.NewString()[:6] // a run tag, so repeated seeds do not collide
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		rows := make([][]any, groups)
		for i := range groups {
			id, _ := uuid.NewV7()
			groupIDs[i] = id
			rows[i] = []any{id, fmt.Sprintf("seed-%s-group-%04d", stamp, i), "seeded group", "seed"}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"host_groups"}, []string{"id", "name", "description", "created_by"}, pgx.CopyFromRows(rows)); err != nil {
			return pg.Translate(err)
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			role, env := roles[i%len(roles)], envs[i%len(envs)]
			id, _ := uuid.NewV7()
			ip := netip.AddrFrom4([4]byte{127, byte(1 + i>>16), byte(i >> 8), byte(i)})
			var group *uuid.UUID
			if groups > 0 && i%5 != 0 {
				group = &groupIDs[i%groups]
			}
			row := []any{id, fmt.Sprintf("%s-%s-%06d.%s.example.com", role, stamp, i, env), ip, SeedPort,
				fmt.Sprintf("%s %d", role, i), "", env, []string{role, dists[i%len(dists)]}, group, "ops", "seed"}
			i++
			return row, nil
		})
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"hosts"},
			[]string{"id", "hostname", "ip_address", "port", "display_name", "description", "environment", "tags", "group_id", "username", "created_by"}, src)
		return pg.Translate(err)
	})
	if err != nil {
		return 0, err
	}
	_, err = pool.Exec(ctx, "ANALYZE hosts, host_groups")
	return time.Since(start), pg.Translate(err)
}
