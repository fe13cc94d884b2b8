package pg

import (
	"context"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ScanOnce wraps pool for sqlc (dbq.New(pg.ScanOnce(pool))) so that QueryRow plans how to
// scan each column once per connection and statement, where pgx plans every column of
// every row it returns again (a host detail's fifty columns were a twentieth of its CPU).
// Everything else goes to pool unchanged.
func ScanOnce(pool *pgxpool.Pool) interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
} {
	return scanOnce{pool}
}

type scanOnce struct{ *pgxpool.Pool }

func (s scanOnce) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := s.Pool.Query(ctx, sql, args...)
	return memoRow{rows: rows, err: err, sql: sql}
}

// scanPlansKey is where a connection keeps its plans (pgconn.PgConn.CustomData, which only
// the goroutine holding the connection touches).
const scanPlansKey = "openwatch.scan_plans"

// scanPlans are the plans of one statement's columns for one set of destination types.
type scanPlans struct {
	oids    []uint32
	formats []int16
	types   []reflect.Type
	plans   []pgtype.ScanPlan
}

func (p *scanPlans) fits(fds []pgconn.FieldDescription, dest []any) bool {
	if len(p.plans) != len(dest) {
		return false
	}
	for i, fd := range fds {
		if p.oids[i] != fd.DataTypeOID || p.formats[i] != fd.Format || p.types[i] != reflect.TypeOf(dest[i]) {
			return false
		}
	}
	return true
}

type memoRow struct {
	rows pgx.Rows
	err  error
	sql  string
}

// Scan is pgx's QueryRow Scan with the plans kept on the connection.
func (r memoRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	rows := r.rows
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	fds := rows.FieldDescriptions()
	if len(fds) != len(dest) {
		return fmt.Errorf("number of field descriptions must equal number of destinations, got %d and %d", len(fds), len(dest))
	}
	conn := rows.Conn()
	data := conn.PgConn().CustomData()
	cache, _ := data[scanPlansKey].(map[string]*scanPlans)
	if cache == nil {
		cache = map[string]*scanPlans{}
		data[scanPlansKey] = cache
	}
	p := cache[r.sql]
	if p == nil || !p.fits(fds, dest) {
		m := conn.TypeMap()
		p = &scanPlans{oids: make([]uint32, len(fds)), formats: make([]int16, len(fds)),
			types: make([]reflect.Type, len(fds)), plans: make([]pgtype.ScanPlan, len(fds))}
		for i, fd := range fds {
			p.oids[i], p.formats[i], p.types[i] = fd.DataTypeOID, fd.Format, reflect.TypeOf(dest[i])
			p.plans[i] = m.PlanScan(fd.DataTypeOID, fd.Format, dest[i])
		}
		cache[r.sql] = p
	}
	raw := rows.RawValues()
	for i, d := range dest {
		if d == nil {
			continue
		}
		if err := p.plans[i].Scan(raw[i], d); err != nil {
			return pgx.ScanArgError{ColumnIndex: i, FieldName: fds[i].Name, Err: err}
		}
	}
	rows.Close()
	return rows.Err()
}
