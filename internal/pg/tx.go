package pg

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is the transaction WithTx hands to fn. It saves round trips to the database,
// which on a durable database are most of a small write's time:
//
//   - BEGIN is not sent on its own: it travels with the transaction's first statement, in
//     one pipeline. A transaction that sends nothing sends neither BEGIN nor COMMIT.
//   - Statements queued with AtCommit travel with COMMIT, in one pipeline; an error in one
//     stops the pipeline before COMMIT, so the transaction rolls back.
//
// Everything else behaves as pgx's own transaction: nested Begin makes a savepoint,
// Commit reports pgx.ErrTxCommitRollback for a transaction the server had aborted, and a
// closed transaction answers pgx.ErrTxClosed.
type lazyTx struct {
	conn   *pgxpool.Conn
	begun  bool
	closed bool
	// atCommit are the statements sent with COMMIT.
	atCommit   []*pgx.QueuedQuery
	savepoints int
}

var _ pgx.Tx = (*lazyTx)(nil)

// pipelinable reports whether args can travel in a pipeline: there are some (pgx sends a
// statement without arguments by the simple protocol, which allows several statements in
// one string) and the first is not a pgx option (a QueryExecMode or a QueryRewriter such
// as NamedArgs, which a batch does not honour).
func pipelinable(args []any) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0].(type) {
	case pgx.QueryExecMode, pgx.QueryRewriter:
		return false
	}
	return true
}

// begin sends BEGIN on its own, for the statements that cannot travel with it.
func (t *lazyTx) begin(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	t.begun = true
	return nil
}

// withBegin sends BEGIN and the queries of b in one pipeline, reads BEGIN's result and
// returns the rest for the caller to read and close.
func (t *lazyTx) withBegin(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	queued := make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)
	queued = append(queued, &pgx.QueuedQuery{SQL: "BEGIN"})
	br := t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: append(queued, b.QueuedQueries...)})
	if _, err := br.Exec(); err != nil {
		return failedBatch{br: br, err: err}
	}
	t.begun = true
	return br
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if t.begun || !pipelinable(args) {
		if err := t.begin(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.withBegin(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	if t.begun || !pipelinable(args) {
		if err := t.begin(ctx); err != nil {
			return nil, err
		}
		return t.conn.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.withBegin(ctx, b)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return row{rows: rows, err: err}
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.closed {
		return failedBatch{err: pgx.ErrTxClosed}
	}
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	return t.withBegin(ctx, b)
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	return t.conn.Conn().Prepare(ctx, name, sql)
}

// LargeObjects is not supported: OpenWatch keeps no large objects.
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	panic("pg: large objects are not supported in a WithTx transaction")
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Begin starts a nested transaction: a savepoint. The statements queued with AtCommit are
// sent first, so rolling the savepoint back cannot take them with it.
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.sendQueued(ctx); err != nil {
		return nil, err
	}
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.savepoint(ctx, t)
}

// sendQueued sends the statements queued with AtCommit now (with BEGIN if nothing was
// sent yet).
func (t *lazyTx) sendQueued(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if len(t.atCommit) == 0 {
		return nil
	}
	queued := t.atCommit
	t.atCommit = nil
	_, err := t.send(ctx, queued)
	return err
}

// send sends queued in one pipeline (BEGIN first when nothing was sent yet), reads every
// result and returns the last one's command tag. The first error stops the pipeline.
func (t *lazyTx) send(ctx context.Context, queued []*pgx.QueuedQuery) (pgconn.CommandTag, error) {
	b := &pgx.Batch{QueuedQueries: queued}
	var br pgx.BatchResults
	if t.begun {
		br = t.conn.SendBatch(ctx, b)
	} else {
		br = t.withBegin(ctx, b)
	}
	var tag pgconn.CommandTag
	var err error
	for range queued {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// SendQueued sends the statements queued on tx with AtCommit now, in one round trip, for a
// caller that must read what they wrote (an audit event appended after another in the
// same transaction). Nothing happens on a transaction not from WithTx.
func SendQueued(ctx context.Context, tx pgx.Tx) error {
	switch t := tx.(type) {
	case *lazyTx:
		return t.sendQueued(ctx)
	case *savepointTx:
		return t.root.sendQueued(ctx)
	}
	return nil
}

func (t *lazyTx) savepoint(ctx context.Context, db dbtx) (pgx.Tx, error) {
	t.savepoints++
	name := "sp_" + strconv.Itoa(t.savepoints)
	if _, err := db.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	return &savepointTx{root: t, name: name}, nil
}

// Commit sends the statements queued with AtCommit and COMMIT in one pipeline (BEGIN
// first, when nothing else was sent), then releases the connection.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if !t.begun && len(t.atCommit) == 0 {
		return nil // nothing was sent: there is nothing to commit
	}
	tag, err := t.send(ctx, append(t.atCommit, &pgx.QueuedQuery{SQL: "COMMIT"}))
	if err != nil {
		if t.conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			_, _ = t.conn.Exec(rctx, "ROLLBACK")
		}
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

func (t *lazyTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// release hands the connection back to the pool, which closes it if it is still inside a
// transaction (a failed ROLLBACK).
func (t *lazyTx) release() {
	t.closed = true
	t.atCommit = nil
	t.conn.Release()
}

// AtCommit returns where to send statements that must run last in tx and succeed for tx to
// commit: an Exec on it is queued and sent in the round trip that commits (when tx comes
// from WithTx), or run at once (any other transaction, or a savepoint of one). Queued
// statements report no command tag, so one that may change nothing must raise an error
// instead (the audit chain's append does). Query, QueryRow and SendBatch run at once.
func AtCommit(tx pgx.Tx) interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
} {
	if t, ok := tx.(*lazyTx); ok {
		return atCommit{t}
	}
	return tx
}

type atCommit struct{ *lazyTx }

func (a atCommit) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if a.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	a.atCommit = append(a.atCommit, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	return pgconn.CommandTag{}, nil
}

// dbtx is what a savepoint needs of its parent.
type dbtx interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}

// savepointTx is a nested transaction of a lazyTx (which has begun).
type savepointTx struct {
	root   *lazyTx
	name   string
	closed bool
}

var _ pgx.Tx = (*savepointTx)(nil)

func (s *savepointTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if s.closed {
		return nil, pgx.ErrTxClosed
	}
	return s.root.savepoint(ctx, s.root)
}

func (s *savepointTx) Commit(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.root.Exec(ctx, "RELEASE SAVEPOINT "+s.name)
	return err
}

func (s *savepointTx) Rollback(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.root.Exec(ctx, "ROLLBACK TO SAVEPOINT "+s.name)
	return err
}

func (s *savepointTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if s.closed {
		return 0, pgx.ErrTxClosed
	}
	return s.root.CopyFrom(ctx, table, columns, src)
}

func (s *savepointTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if s.closed {
		return failedBatch{err: pgx.ErrTxClosed}
	}
	return s.root.SendBatch(ctx, b)
}

func (s *savepointTx) LargeObjects() pgx.LargeObjects { return s.root.LargeObjects() }

func (s *savepointTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if s.closed {
		return nil, pgx.ErrTxClosed
	}
	return s.root.Prepare(ctx, name, sql)
}

func (s *savepointTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return s.root.Exec(ctx, sql, args...)
}

func (s *savepointTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if s.closed {
		return nil, pgx.ErrTxClosed
	}
	return s.root.Query(ctx, sql, args...)
}

func (s *savepointTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := s.Query(ctx, sql, args...)
	return row{rows: rows, err: err}
}

func (s *savepointTx) Conn() *pgx.Conn { return s.root.Conn() }

// batchRows are the rows of a pipeline's last query: closing them reads the pipeline to
// its end.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// row is pgx's QueryRow over any Rows: the first row, pgx.ErrNoRows when there is none.
type row struct {
	rows pgx.Rows
	err  error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// failedBatch answers every read with err, after closing br (if any).
type failedBatch struct {
	br  pgx.BatchResults
	err error
}

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return row{err: f.err} }
func (f failedBatch) Tx() pgx.Tx                       { return nil }
func (f failedBatch) Close() error {
	if f.br != nil {
		_ = f.br.Close()
	}
	return f.err
}
