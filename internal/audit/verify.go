package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"fmt"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// verifyBatch is how many rows Verify reads per query.
const verifyBatch = 500

// Result is the outcome of Verify.
type Result struct {
	// OK is true when every row and the head checkpoint verified.
	OK bool
	// Checked counts the rows that verified, in seq order, before the first break.
	Checked int64
	// FirstBrokenSeq is nil when OK. Otherwise it is the first seq that cannot be trusted:
	// the edited row, the first missing row, or the first seq after the last verified row
	// when the head checkpoint says rows are missing or does not authenticate.
	FirstBrokenSeq *int64
	// Reason says what is wrong, "" when OK.
	Reason string
}

// Verify walks the chain in seq order, in batches on one consistent snapshot (so memory
// stays flat and concurrent appends do not disturb it), and checks that seq runs 1, 2, 3...
// without gaps, that each row's mac matches HMAC over its columns, that each prev_mac is
// the previous row's mac, and that the head's signed checkpoint authenticates and names the
// last row. It finds an UPDATE of any column, a DELETE of rows in the middle or at the
// tail, and a forged checkpoint.
//
// What it cannot find alone: someone with write access to the database who saved an
// older head row (seq, mac, checkpoint) can delete the rows after it and put that head
// back. Recording the head's seq and checkpoint outside the database (an export, a log
// line) closes that gap.
//
// The API guards it with audit:verify. It
// returns an error only when the database cannot be read; a broken chain is a Result.
func (w *Writer) Verify(ctx context.Context) (Result, error) {
	tx, err := w.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Result{}, fmt.Errorf("verify audit chain: %w", pg.Translate(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := w.q.WithTx(tx)

	head, err := q.AuditHeadGet(ctx)
	headMissing := err != nil // no head row yet; any other error returns just below
	if err = pg.IgnoreNotFound(err); err != nil {
		return Result{}, fmt.Errorf("verify audit chain: read head: %w", err)
	}

	var res Result
	lastSeq, lastMAC := int64(0), genesisMAC
	broken := func(seq int64, format string, args ...any) (Result, error) {
		res.FirstBrokenSeq = &seq
		res.Reason = fmt.Sprintf(format, args...)
		return res, nil
	}
	for {
		rows, err := q.AuditEventWalk(ctx, dbq.AuditEventWalkParams{AfterSeq: lastSeq, RowLimit: verifyBatch})
		if err != nil {
			return Result{}, fmt.Errorf("verify audit chain: read events: %w", pg.Translate(err))
		}
		for i := range rows {
			row := &rows[i]
			want := lastSeq + 1
			if row.Seq != want {
				return broken(want, "seq %d is missing: the row after seq %d has seq %d", want, lastSeq, row.Seq)
			}
			detail, err := canonicalDetail(row.Detail)
			if err != nil {
				return broken(row.Seq, "seq %d: %v", row.Seq, err)
			}
			if !hmac.Equal(row.Mac, eventMAC(w.key, row, detail)) {
				return broken(row.Seq, "seq %d was altered: its mac does not match its contents", row.Seq)
			}
			if !bytes.Equal(row.PrevMac, lastMAC) {
				return broken(row.Seq, "seq %d does not follow seq %d: its prev_mac is not that row's mac", row.Seq, lastSeq)
			}
			lastSeq, lastMAC = row.Seq, row.Mac
			res.Checked++
		}
		if len(rows) < verifyBatch {
			break
		}
	}

	switch {
	case headMissing:
		return broken(lastSeq+1, "the audit head row is missing")
	case head.CheckpointMac == nil || !hmac.Equal(head.CheckpointMac, checkpointMAC(w.key, head.Seq, head.Mac)):
		return broken(lastSeq+1, "the head checkpoint (seq %d) does not authenticate: it was forged or removed", head.Seq)
	case head.Seq > lastSeq:
		return broken(lastSeq+1, "seq %d to %d are missing: the checkpoint is at seq %d, the last row at seq %d",
			lastSeq+1, head.Seq, head.Seq, lastSeq)
	case head.Seq < lastSeq:
		return broken(head.Seq+1, "seq %d to %d are not covered by the checkpoint at seq %d (the head was rolled back)",
			head.Seq+1, lastSeq, head.Seq)
	case !bytes.Equal(head.Mac, lastMAC):
		return broken(lastSeq, "the checkpoint at seq %d names a different row than the stored one", head.Seq)
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("verify audit chain: %w", pg.Translate(err))
	}
	res.OK = true
	return res, nil
}
