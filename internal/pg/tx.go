package pg

import (
	"context"
	"errors"
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
//   - Statements queued with Ahead and Behind travel with the next statement, before and
//     after it: a write can take its checks and its follow-up locks in its own round trip.
//
// Everything else behaves as pgx's own transaction: nested Begin makes a savepoint,
// Commit reports pgx.ErrTxCommitRollback for a transaction the server had aborted, and a
// closed transaction answers pgx.ErrTxClosed.
type lazyTx struct {
	conn   *pgxpool.Conn
	begun  bool
	closed bool
	// ahead and behind are sent before and after the next statement, in its pipeline.
	ahead, behind []*pgx.QueuedQuery
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

// begin sends BEGIN and the statements queued Ahead, for a statement that cannot travel
// with them (the Behind ones wait for a later round trip, so they still come after it).
func (t *lazyTx) begin(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.begun && len(t.ahead) == 0 {
		return nil
	}
	if len(t.ahead) == 0 {
		if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		t.begun = true
		return nil
	}
	ahead := t.ahead
	t.ahead = nil
	_, err := t.send(ctx, ahead)
	return err
}

// alone reports whether the next statement can go straight to the connection: the
// transaction has begun and nothing waits to travel with it.
func (t *lazyTx) alone() bool { return t.begun && len(t.ahead) == 0 && len(t.behind) == 0 }

// direct reports whether a statement with args goes straight to the connection: it is
// alone, or args cannot travel in a pipeline at all.
func (t *lazyTx) direct(args []any) bool { return t.alone() || !pipelinable(args) }

// next sends queued in one pipeline with the statements queued Ahead before them and
// Behind after them (and BEGIN first when nothing was sent yet). It reads BEGIN's and the
// Ahead results and returns the rest for the caller to read and close (closing runs the
// Behind statements' callbacks).
func (t *lazyTx) next(ctx context.Context, queued []*pgx.QueuedQuery) pgx.BatchResults {
	ahead, behind := t.ahead, t.behind
	t.ahead, t.behind = nil, nil
	return t.pipeline(ctx, ahead, queued, behind)
}

// pipeline sends ahead, queued and behind in one pipeline (BEGIN first when nothing was
// sent yet), reads BEGIN's and ahead's results and returns the rest.
func (t *lazyTx) pipeline(ctx context.Context, ahead, queued, behind []*pgx.QueuedQuery) pgx.BatchResults {
	all := make([]*pgx.QueuedQuery, 0, len(ahead)+len(queued)+len(behind)+1)
	if !t.begun {
		all = append(all, &pgx.QueuedQuery{SQL: "BEGIN"})
	}
	all = append(append(append(all, ahead...), queued...), behind...)
	br := t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: all})
	if !t.begun {
		if _, err := br.Exec(); err != nil {
			return failedBatch{br: br, err: err}
		}
		t.begun = true
	}
	for _, q := range ahead {
		if err := readQueued(br, q); err != nil {
			return failedBatch{br: br, err: err}
		}
	}
	return br
}

// readQueued reads the result of q from br: through q's callback when it has one.
func readQueued(br pgx.BatchResults, q *pgx.QueuedQuery) error {
	if q.Fn != nil {
		return q.Fn(br)
	}
	_, err := br.Exec()
	return err
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if t.direct(args) {
		if err := t.begin(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.next(ctx, []*pgx.QueuedQuery{{SQL: sql, Arguments: args}})
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
	if t.direct(args) {
		if err := t.begin(ctx); err != nil {
			return nil, err
		}
		return t.conn.Query(ctx, sql, args...)
	}
	br := t.next(ctx, []*pgx.QueuedQuery{{SQL: sql, Arguments: args}})
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
	if t.alone() {
		return t.conn.SendBatch(ctx, b)
	}
	return t.next(ctx, b.QueuedQueries)
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

// Begin starts a nested transaction: a savepoint. The statements queued (with Ahead, Behind
// and AtCommit) are sent first, so rolling the savepoint back cannot take them with it.
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.sendQueued(ctx); err != nil {
		return nil, err
	}
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.savepoint(ctx, t)
}

// sendQueued sends every statement queued (Ahead, Behind, then AtCommit) now, in one
// round trip (with BEGIN if nothing was sent yet).
func (t *lazyTx) sendQueued(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if len(t.ahead)+len(t.behind)+len(t.atCommit) == 0 {
		return nil
	}
	_, err := t.send(ctx, t.takeQueued())
	return err
}

// takeQueued returns and forgets every statement queued, in the order they run.
func (t *lazyTx) takeQueued() []*pgx.QueuedQuery {
	queued := make([]*pgx.QueuedQuery, 0, len(t.ahead)+len(t.behind)+len(t.atCommit)+1)
	queued = append(append(append(queued, t.ahead...), t.behind...), t.atCommit...)
	t.ahead, t.behind, t.atCommit = nil, nil, nil
	return queued
}

// send sends queued in one pipeline (BEGIN first when nothing was sent yet), reads every
// result (through a statement's callback when it has one) and returns the last command
// tag read. The first error stops the pipeline.
func (t *lazyTx) send(ctx context.Context, queued []*pgx.QueuedQuery) (pgconn.CommandTag, error) {
	b := &pgx.Batch{QueuedQueries: queued}
	var br pgx.BatchResults
	if t.begun {
		br = t.conn.SendBatch(ctx, b)
	} else {
		br = t.pipeline(ctx, nil, queued, nil)
	}
	var tag pgconn.CommandTag
	var err error
	for _, q := range queued {
		if q.Fn != nil {
			err = q.Fn(br)
		} else {
			tag, err = br.Exec()
		}
		if err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// SendQueued sends the statements queued on tx (with Ahead, Behind and AtCommit) now, in
// one round trip, for a caller that must read what they wrote (an audit event appended
// after another in the same transaction) or needs their results. Nothing happens on a
// transaction not from WithTx.
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
	if !t.begun && len(t.ahead)+len(t.behind)+len(t.atCommit) == 0 {
		return nil // nothing was sent: there is nothing to commit
	}
	tag, err := t.send(ctx, append(t.takeQueued(), &pgx.QueuedQuery{SQL: "COMMIT"}))
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
	t.ahead, t.behind, t.atCommit = nil, nil, nil
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

// Ahead queues q to travel in the round trip of tx's next statement, before it; q's
// callback (pgx.QueuedQuery's Exec, Query or QueryRow) reads its result before that
// statement's, and an error it returns fails that statement. A transaction that sends no
// other statement sends q with its commit (or SendQueued). It reports false, queuing
// nothing, when tx is not from WithTx (or a savepoint of one): the caller sends q itself.
func Ahead(tx pgx.Tx, q *pgx.QueuedQuery) bool {
	return queue(tx, q, func(t *lazyTx) *[]*pgx.QueuedQuery { return &t.ahead })
}

// Behind queues q to travel in the round trip of tx's next statement, after it (or, when
// that statement cannot travel in a pipeline, with a later round trip): a write can take
// the locks that must follow its own without a round trip of their own. q runs only when
// the statement succeeded; its callback reads its result when the statement's result is
// closed. It reports false, queuing nothing, as Ahead does.
func Behind(tx pgx.Tx, q *pgx.QueuedQuery) bool {
	return queue(tx, q, func(t *lazyTx) *[]*pgx.QueuedQuery { return &t.behind })
}

// queue appends q to the list of tx's WithTx transaction that list picks.
func queue(tx pgx.Tx, q *pgx.QueuedQuery, list func(*lazyTx) *[]*pgx.QueuedQuery) bool {
	t := rootOf(tx)
	if t == nil || t.closed {
		return false
	}
	l := list(t)
	*l = append(*l, q)
	return true
}

// QueuedAtCommit returns how many statements wait on tx for its commit (AtCommit).
func QueuedAtCommit(tx pgx.Tx) int {
	if t := rootOf(tx); t != nil {
		return len(t.atCommit)
	}
	return 0
}

// rootOf returns the WithTx transaction tx is or belongs to, or nil.
func rootOf(tx pgx.Tx) *lazyTx {
	switch t := tx.(type) {
	case *lazyTx:
		return t
	case *savepointTx:
		return t.root
	}
	return nil
}

// DBTX is what a query method generated by sqlc sends its statements through.
type DBTX interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}

// Statement returns the statement a generated query method sends (its SQL and arguments,
// as the method orders them) without sending it, for Ahead and Behind: call runs the
// method on a recorder, and what the method returns is meaningless. The statement's
// result is read by the callback set on it (QueuedQuery.QueryRow, Exec or Query).
func Statement(call func(db DBTX)) *pgx.QueuedQuery {
	r := &recorder{}
	call(r)
	if r.q == nil {
		panic("pg: Statement's call sent no statement")
	}
	return r.q
}

// recorder keeps the one statement sent to it and answers errRecorded.
type recorder struct{ q *pgx.QueuedQuery }

var errRecorded = errors.New("pg: statement recorded, not sent")

func (r *recorder) record(sql string, args []any) {
	if r.q != nil {
		panic("pg: Statement's call sent more than one statement")
	}
	r.q = &pgx.QueuedQuery{SQL: sql, Arguments: args}
}

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.record(sql, args)
	return pgconn.CommandTag{}, errRecorded
}

func (r *recorder) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.record(sql, args)
	return nil, errRecorded
}

func (r *recorder) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	r.record(sql, args)
	return row{err: errRecorded}
}

func (r *recorder) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	panic("pg: Statement records single statements, not batches")
}
