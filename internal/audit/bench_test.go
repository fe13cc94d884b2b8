package audit_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
)

// BenchmarkAppend measures appending one event in a transaction of its own (BEGIN, head
// lock, insert and head move, COMMIT).
func BenchmarkAppend(b *testing.B) {
	s := setup(b)
	e := event(audit.ActionUserUpdated)
	e.Detail = map[string]any{"username": "bob", "changes": []string{"email", "role"}, "new_password": "x"}
	b.ReportAllocs()
	for b.Loop() {
		err := pg.WithTx(s.ctx, s.pool, func(tx pgx.Tx) error {
			return s.w.Append(s.ctx, tx, e)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
