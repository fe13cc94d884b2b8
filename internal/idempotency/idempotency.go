// Package idempotency stores Idempotency-Key reservations and the responses they produced.
//
// A request with a key first reserves (principal, key) with a hash of its method, path,
// query and body. Reservation is a single INSERT ... ON CONFLICT, so of two concurrent
// requests exactly one wins; the other sees the in-flight row and is refused. When the
// handler finishes, the response is stored and replayed for the same request; a different
// request under the same key is refused. Entries expire after TTL and are swept.
package idempotency

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Outcome is the result of a reservation attempt.
type Outcome int

// The outcomes of Reserve.
const (
	// Reserved: the caller owns the key and must Complete or Release it.
	Reserved Outcome = iota
	// InProgress: the same request is running under this key right now.
	InProgress
	// Mismatch: the key was used for a different request.
	Mismatch
	// Replay: the same request already finished; Stored holds its response.
	Replay
)

// Stored is a response kept for replay.
type Stored struct {
	Status      int
	ContentType string
	Body        []byte
}

// Store keeps idempotency entries in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	now  func() time.Time
}

// NewStore returns a store on pool.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store {
	return &Store{pool: pool, q: dbq.New(pool), now: now}
}

// Reserve claims key for principal, or reports why it cannot.
func (s *Store) Reserve(ctx context.Context, principal, key string, requestHash []byte, correlationID string) (Outcome, *Stored, error) {
	return s.reserve(ctx, s.q, principal, key, requestHash, correlationID)
}

// errNotKept rolls back Within's transaction when there is nothing to keep.
var errNotKept = errors.New("idempotency: nothing to keep")

// errNotReserved rolls back Within's transaction when the key was not free.
var errNotReserved = errors.New("idempotency: key not reserved")

// Within runs fn in one transaction with the reservation of key and, when fn says to keep
// its response, with storing that response: the request's changes, their audit events and
// the idempotency bookkeeping commit once (pg.WithTx calls under fn's context join the
// transaction). A concurrent duplicate waits for that commit and is then a Replay.
//
// The reservation travels ahead of fn's first statement, in its round trip (pg.Ahead), so
// fn runs before the reservation's answer is known: fn must change nothing outside the
// transaction. When the key was not free, everything fn did rolls back and the outcome
// says why (with the stored response for a Replay). When fn returns keep false, everything
// fn did rolls back and the key stays free. err is a database error, of the commit
// included: nothing was kept.
func (s *Store) Within(ctx context.Context, principal, key string, requestHash []byte, correlationID string,
	fn func(ctx context.Context) (resp Stored, keep bool)) (Outcome, *Stored, error) {
	err := pg.WithOwnTx(ctx, s.pool, func(tx pgx.Tx) error {
		var answered, reserved bool
		var reserveErr error
		reserve := pg.Statement(func(db pg.DBTX) {
			_, _ = dbq.New(db).IdempotencyReserve(ctx, s.reserveParams(principal, key, requestHash, correlationID))
		})
		reserve.QueryRow(func(row pgx.Row) error {
			var p string
			scanErr := row.Scan(&p)
			if reserveErr = pg.IgnoreNotFound(scanErr); reserveErr != nil {
				return reserveErr
			}
			answered, reserved = true, scanErr == nil // no row: the key is held
			return nil
		})
		if !pg.Ahead(tx, reserve) {
			return errors.New("idempotency: Within needs a pg.WithTx transaction")
		}
		resp, keep := fn(pg.ContextWithTx(ctx, tx))
		if reserveErr != nil { // fn saw it too, as the error of its first statement
			return reserveErr
		}
		if !answered { // fn sent nothing, or its first round trip failed
			if err := pg.SendQueued(ctx, tx); err != nil {
				return err
			}
			if !answered {
				// Nothing was left to send, so the reservation travelled in a round trip
				// that failed before its answer (fn saw that failure): the connection
				// broke, as when the database restarts. The client may retry.
				return apperr.Unavailable(errors.New("idempotency: the round trip carrying the reservation failed"))
			}
		}
		if !reserved {
			return errNotReserved
		}
		if !keep {
			return errNotKept
		}
		status := int32(resp.Status)
		return dbq.New(pg.AtCommit(tx)).IdempotencyComplete(ctx, dbq.IdempotencyCompleteParams{
			Principal: principal, Key: key, StatusCode: &status, ContentType: &resp.ContentType, ResponseBody: resp.Body,
		})
	})
	switch {
	case errors.Is(err, errNotKept):
		return Reserved, nil, nil
	case errors.Is(err, errNotReserved):
		return s.held(ctx, s.q, principal, key, requestHash)
	case err != nil:
		return 0, nil, err
	}
	return Reserved, nil, nil
}

func (s *Store) reserveParams(principal, key string, requestHash []byte, correlationID string) dbq.IdempotencyReserveParams {
	return dbq.IdempotencyReserveParams{
		Principal: principal, Key: key, RequestHash: requestHash, CorrelationID: correlationID,
		ExpiresAt: s.now().Add(TTL),
	}
}

func (s *Store) reserve(ctx context.Context, q *dbq.Queries, principal, key string, requestHash []byte, correlationID string) (Outcome, *Stored, error) {
	_, err := q.IdempotencyReserve(ctx, s.reserveParams(principal, key, requestHash, correlationID))
	if err == nil {
		return Reserved, nil, nil
	}
	if err = pg.IgnoreNotFound(err); err != nil {
		return 0, nil, err
	}
	return s.held(ctx, q, principal, key, requestHash)
}

// held says why a key that could not be reserved is held: the stored response of the same
// request, a different request, or one still running.
func (s *Store) held(ctx context.Context, q *dbq.Queries, principal, key string, requestHash []byte) (Outcome, *Stored, error) {
	row, err := q.IdempotencyGet(ctx, dbq.IdempotencyGetParams{Principal: principal, Key: key})
	if err != nil {
		// No row: released since, so the caller may simply retry.
		return InProgress, nil, pg.IgnoreNotFound(err)
	}
	switch {
	case !bytes.Equal(row.RequestHash, requestHash):
		return Mismatch, nil, nil
	case row.State != "done" || row.StatusCode == nil:
		return InProgress, nil, nil
	}
	st := &Stored{Status: int(*row.StatusCode), Body: row.ResponseBody}
	if row.ContentType != nil {
		st.ContentType = *row.ContentType
	}
	return Replay, st, nil
}

// Complete stores the response of a reserved request.
func (s *Store) Complete(ctx context.Context, principal, key string, resp Stored) error {
	status := int32(resp.Status)
	return pg.Translate(s.q.IdempotencyComplete(ctx, dbq.IdempotencyCompleteParams{
		Principal: principal, Key: key, StatusCode: &status, ContentType: &resp.ContentType, ResponseBody: resp.Body,
	}))
}

// Release forgets a reservation whose request failed on the server side, so the client can
// retry under the same key.
func (s *Store) Release(ctx context.Context, principal, key string) error {
	return pg.Translate(s.q.IdempotencyRelease(ctx, dbq.IdempotencyReleaseParams{Principal: principal, Key: key}))
}

// Sweep deletes expired entries and returns how many.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	n, err := s.q.IdempotencySweep(ctx)
	return n, pg.Translate(err)
}
