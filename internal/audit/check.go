package audit

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// Check is the last periodic verification of the chain: when it ran, its verdict, and
// when the chain last verified intact (nil if never).
type Check struct {
	VerifiedAt time.Time
	Result     Result
	LastOKAt   *time.Time
}

// RecordCheckTx stores res, found at at, as the chain's last periodic verification, inside
// the caller's transaction (the one that raises or resolves the alert about it).
func RecordCheckTx(ctx context.Context, tx pgx.Tx, res Result, at time.Time) error {
	return pg.Translate(dbq.New(tx).AuditChainCheckRecord(ctx, dbq.AuditChainCheckRecordParams{
		VerifiedAt: at, Ok: res.OK, Checked: res.Checked, FirstBrokenSeq: res.FirstBrokenSeq, Reason: res.Reason}))
}

// errNoCheck marks that no periodic verification has run yet.
var errNoCheck = errors.New("audit: the chain has not been verified yet")

// LastCheck returns the chain's last periodic verification; ok is false before the first.
// The API guards it with audit:read.
func (w *Writer) LastCheck(ctx context.Context) (c Check, ok bool, err error) {
	row, err := w.q.AuditChainCheckGet(ctx)
	if err = pg.NotFoundAs(err, errNoCheck); errors.Is(err, errNoCheck) {
		return Check{}, false, nil
	} else if err != nil {
		return Check{}, false, err
	}
	return Check{VerifiedAt: row.VerifiedAt, LastOKAt: row.LastOkAt,
		Result: Result{OK: row.Ok, Checked: row.Checked, FirstBrokenSeq: row.FirstBrokenSeq, Reason: row.Reason}}, true, nil
}
