package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Event types published on the live stream (topic jobs) when a check changes or is tested.
const (
	EventCreated = "health_check.created"
	EventUpdated = "health_check.updated"
	EventDeleted = "health_check.deleted"
	EventTested  = "health_check.tested"
)

// Connector opens SSH connections to inventory hosts; *hostssh.Connector implements it.
type Connector interface {
	Connect(ctx context.Context, hostID uuid.UUID) (*hostssh.Conn, error)
}

// Service stores health checks and runs them by hand.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	ssh   Connector
	now   func() time.Time
}

// NewService returns the health-check service; nowFunc is the clock (time.Now when nil).
func NewService(pool *pgxpool.Pool, aw *audit.Writer, ssh Connector, nowFunc func() time.Time) *Service {
	if nowFunc == nil {
		nowFunc = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, ssh: ssh, now: nowFunc}
}

// Patch changes some of a check's fields; nil fields stay as they are. Params, when set,
// replaces the kind's parameters as a whole. The kind never changes.
type Patch struct {
	Name          *string
	Params        *Params
	TimeoutSec    *int
	Retries       *int
	RetryDelaySec *int
	Enabled       *bool
}

func errNotFound() error { return apperr.NotFound("There is no such health check.") }

// FromRow returns the check a stored row describes.
func FromRow(r dbq.HealthCheck) (Check, error) {
	var p Params
	if err := json.Unmarshal(r.Params, &p); err != nil {
		return Check{}, fmt.Errorf("decode params of health check %s: %w", r.ID, err)
	}
	c := Check{ID: r.ID, Spec: Spec{Name: r.Name, Kind: Kind(r.Kind), Params: p, TimeoutSec: int(r.TimeoutSec),
		Retries: int(r.Retries), RetryDelaySec: int(r.RetryDelaySec), Enabled: r.Enabled},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.LastTestedAt != nil {
		run := Run{TestedAt: *r.LastTestedAt, HostID: r.LastHostID}
		if r.LastOk != nil {
			run.OK = *r.LastOk
		}
		if r.LastDetail != nil {
			run.Detail = *r.LastDetail
		}
		if r.LastOutput != nil {
			run.Output = *r.LastOutput
		}
		if r.LastDurationMs != nil {
			run.Duration = time.Duration(*r.LastDurationMs) * time.Millisecond
		}
		if r.LastAttempts != nil {
			run.Attempts = int(*r.LastAttempts)
		}
		c.LastTest = &run
	}
	return c, nil
}

// Create stores a new check, audited and published in one transaction. Guarded by
// health_check:write. Errors: validation_failed naming the field, resource.conflict
// (field name) when a live check has the name.
func (s *Service) Create(ctx context.Context, actor *authz.Principal, sp Spec) (Check, error) {
	if err := sp.Validate(); err != nil {
		return Check{}, err
	}
	var out Check
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.CreateTx(ctx, tx, actor, sp)
		return err
	})
	return out, pg.Translate(err)
}

// CreateTx is Create inside the caller's transaction.
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, sp Spec) (Check, error) {
	if err := sp.Validate(); err != nil {
		return Check{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Check{}, fmt.Errorf("new health check id: %w", err)
	}
	params, err := json.Marshal(sp.Params)
	if err != nil {
		return Check{}, fmt.Errorf("encode health check params: %w", err)
	}
	row, err := dbq.New(tx).HealthCheckInsert(ctx, dbq.HealthCheckInsertParams{ID: id, Name: sp.Name, Kind: string(sp.Kind),
		Params: params, TimeoutSec: int32(sp.TimeoutSec), Retries: int32(sp.Retries), RetryDelaySec: int32(sp.RetryDelaySec),
		Enabled: sp.Enabled, CreatedBy: actor.Actor().String(), Now: s.now()})
	if err != nil {
		return Check{}, pg.Translate(err)
	}
	c, err := FromRow(row)
	if err != nil {
		return Check{}, err
	}
	return c, s.record(ctx, tx, actor, audit.ActionHealthCheckCreated, EventCreated, c, describe(c.Spec), nil)
}

// record writes the audit event and the live-stream event of a change to c.
func (s *Service) record(ctx context.Context, tx pgx.Tx, actor *authz.Principal, action audit.Action, typ string, c Check, detail map[string]any, hostID *uuid.UUID) error {
	if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, action, "health_check", c.ID.String(), detail)); err != nil {
		return err
	}
	data := map[string]any{"check_id": c.ID, "name": c.Name}
	if hostID != nil {
		data["host_id"] = hostID
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicJobs, Type: typ, HostID: hostID,
		Permission: authz.PermHealthCheckRead, Data: data})
	return err
}

// describe is the audit detail of a check's fields.
func describe(sp Spec) map[string]any {
	return map[string]any{"name": sp.Name, "kind": string(sp.Kind), "params": sp.Params, "timeout_sec": sp.TimeoutSec,
		"retries": sp.Retries, "retry_delay_sec": sp.RetryDelaySec, "enabled": sp.Enabled}
}

// List returns a page of live checks, oldest first. Guarded by health_check:read.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[Check], error) {
	rows, err := s.q.HealthCheckList(ctx, dbq.HealthCheckListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Check]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(r dbq.HealthCheck) uuid.UUID { return r.ID })
	out := cursor.Page[Check]{Items: make([]Check, len(cut.Items)), Next: cut.Next}
	for i, r := range cut.Items {
		if out.Items[i], err = FromRow(r); err != nil {
			return cursor.Page[Check]{}, err
		}
	}
	return out, nil
}

// Get returns a live check. Guarded by health_check:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Check, error) {
	row, err := s.q.HealthCheckGet(ctx, id)
	if err != nil {
		return Check{}, pg.NotFoundAs(err, errNotFound())
	}
	return FromRow(row)
}

// ListByIDs returns the live checks among ids, in the order of ids (each once); an id of
// no live check is left out, so a caller that needs all of them compares the lengths. For
// the change machinery.
func (s *Service) ListByIDs(ctx context.Context, ids []uuid.UUID) ([]Check, error) {
	return listByIDs(ctx, s.q, ids)
}

// ListByIDsTx is ListByIDs inside the caller's transaction.
func (s *Service) ListByIDsTx(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) ([]Check, error) {
	return listByIDs(ctx, dbq.New(tx), ids)
}

func listByIDs(ctx context.Context, q *dbq.Queries, ids []uuid.UUID) ([]Check, error) {
	if len(ids) == 0 {
		return []Check{}, nil
	}
	rows, err := q.HealthCheckListByIDs(ctx, ids)
	if err != nil {
		return nil, pg.Translate(err)
	}
	byID := make(map[uuid.UUID]dbq.HealthCheck, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]Check, 0, len(rows))
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		r, ok := byID[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		c, err := FromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Update applies p to a check and validates the result as a whole, audited (with the
// fields before) and published in one transaction. Guarded by health_check:write. Errors:
// validation_failed naming the field, resource.not_found, resource.conflict (name).
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, p Patch) (Check, error) {
	var out Check
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		row, err := q.HealthCheckGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		cur, err := FromRow(row)
		if err != nil {
			return err
		}
		sp := apply(cur.Spec, p)
		if err := sp.Validate(); err != nil {
			return err
		}
		params, err := json.Marshal(sp.Params)
		if err != nil {
			return fmt.Errorf("encode health check params: %w", err)
		}
		row, err = q.HealthCheckUpdate(ctx, dbq.HealthCheckUpdateParams{ID: id, Name: sp.Name, Params: params,
			TimeoutSec: int32(sp.TimeoutSec), Retries: int32(sp.Retries), RetryDelaySec: int32(sp.RetryDelaySec),
			Enabled: sp.Enabled, Now: s.now()})
		if err != nil {
			return pg.Translate(err)
		}
		if out, err = FromRow(row); err != nil {
			return err
		}
		detail := describe(out.Spec)
		detail["before"] = describe(cur.Spec)
		return s.record(ctx, tx, actor, audit.ActionHealthCheckUpdated, EventUpdated, out, detail, nil)
	})
	return out, pg.Translate(err)
}

func apply(sp Spec, p Patch) Spec {
	if p.Name != nil {
		sp.Name = *p.Name
	}
	if p.Params != nil {
		sp.Params = *p.Params
	}
	if p.TimeoutSec != nil {
		sp.TimeoutSec = *p.TimeoutSec
	}
	if p.Retries != nil {
		sp.Retries = *p.Retries
	}
	if p.RetryDelaySec != nil {
		sp.RetryDelaySec = *p.RetryDelaySec
	}
	if p.Enabled != nil {
		sp.Enabled = *p.Enabled
	}
	return sp
}

// Delete removes a check (soft delete: the records of jobs that ran it still resolve),
// audited and published in one transaction. Guarded by health_check:write. Errors:
// resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		row, err := q.HealthCheckGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		c, err := FromRow(row)
		if err != nil {
			return err
		}
		if _, err := q.HealthCheckSoftDelete(ctx, dbq.HealthCheckSoftDeleteParams{ID: id, Now: s.now()}); err != nil {
			return fmt.Errorf("delete health check: %w", err)
		}
		return s.record(ctx, tx, actor, audit.ActionHealthCheckDeleted, EventDeleted, c, describe(c.Spec), nil)
	})
	return pg.Translate(err)
}

// Test runs a check now on a live host over SSH, as root, records the outcome as the
// check's last test (audited and published) and returns it. A check that ran and did not
// pass is an outcome, not an error. Guarded by health_check:test. Errors:
// resource.not_found (check or host), host.unreachable (with detail.error_type),
// host.key_mismatch.
func (s *Service) Test(ctx context.Context, actor *authz.Principal, id, hostID uuid.UUID) (Run, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Run{}, err
	}
	conn, err := s.ssh.Connect(ctx, hostID)
	if err != nil {
		return Run{}, err
	}
	defer func() { _ = conn.Close() }()
	start := s.now()
	br, err := conn.Batch(ctx, []sshx.Command{Command(c)}, true)
	var o Outcome
	switch {
	case err == nil:
		o = Evaluate(c, br.Results[0])
	case errors.Is(err, sshx.ErrCommandTimeout):
		// The SSH command timeout (ssh settings) ended the check before its own timeouts did.
		o = Outcome{Duration: s.now().Sub(start), Detail: fmt.Sprintf(
			"The check did not finish within the SSH command timeout; it may take up to %s with its retries (raise command_timeout_sec in the SSH settings, or lower the check's timeout or retries).",
			Budget(c))}
	default:
		return Run{}, err
	}
	run := Run{Outcome: o, HostID: &hostID, TestedAt: s.now()}
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		o := run.Outcome
		row, err := dbq.New(tx).HealthCheckRecordTest(ctx, dbq.HealthCheckRecordTestParams{ID: id, TestedAt: &run.TestedAt,
			HostID: &hostID, Ok: &o.OK, Detail: &o.Detail, Output: &o.Output,
			DurationMs: ptr(int32(o.Duration.Milliseconds())), Attempts: ptr(int32(o.Attempts))})
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		cur, err := FromRow(row)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.ActionHealthCheckTested, EventTested, cur, map[string]any{
			"host_id": hostID.String(), "ok": o.OK, "detail": o.Detail, "duration_ms": o.Duration.Milliseconds(),
			"attempts": o.Attempts}, &hostID)
	})
	return run, pg.Translate(err)
}

func ptr[T any](v T) *T { return &v }
