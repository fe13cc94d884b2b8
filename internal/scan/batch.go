package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// The bounds of a batch's concurrency, as the API states them.
const (
	DefaultBatchConcurrency = 10
	MaxBatchConcurrency     = 200
)

// The statuses of a batch.
const (
	BatchRunning   = "running"
	BatchCompleted = "completed"
	BatchCancelled = "cancelled"
)

// HostFilter selects hosts as the filters of GET /hosts do: every one given must match.
type HostFilter struct {
	Environment *string    `json:"environment,omitempty"`
	Tag         *string    `json:"tag,omitempty"`
	GroupID     *uuid.UUID `json:"group_id,omitempty"`
	Q           *string    `json:"q,omitempty"`
}

// Selector names the hosts of a batch: exactly one of its fields is set. It is stored with
// the batch as it was given.
type Selector struct {
	HostIDs []uuid.UUID `json:"host_ids,omitempty"`
	GroupID *uuid.UUID  `json:"group_id,omitempty"`
	Filter  *HostFilter `json:"filter,omitempty"`
	All     *bool       `json:"all,omitempty"`
}

// Check refuses a selector that names no hosts, or names them more than one way.
func (sel Selector) Check() error {
	given := 0
	if sel.HostIDs != nil {
		given++
	}
	if sel.GroupID != nil {
		given++
	}
	if sel.Filter != nil {
		given++
	}
	if sel.All != nil {
		if !*sel.All {
			return apperr.Invalid("selector", "all must be true when given.")
		}
		given++
	}
	switch {
	case given == 0:
		return apperr.Invalid("selector", "Name the hosts: give one of host_ids, group_id, filter and all.")
	case given > 1:
		return apperr.Invalid("selector", "Give only one of host_ids, group_id, filter and all.")
	case sel.HostIDs != nil && len(sel.HostIDs) == 0:
		return apperr.Invalid("host_ids", "Give at least one host id.")
	}
	return nil
}

// BatchRequest describes a batch to start: the hosts, what to scan them for (as Request:
// a framework, or rule ids, or neither), and how many of its scans may be dispatched at
// once (DefaultBatchConcurrency when 0).
type BatchRequest struct {
	Selector    Selector
	Framework   string
	RuleIDs     []string
	Concurrency int
}

// BatchProgress is a batch's scans counted by status.
type BatchProgress struct {
	Queued, Running, Completed, Failed, Cancelled int
}

// Batch is a batch with its selector and progress.
type Batch struct {
	dbq.ScanBatch
	Selector Selector
	Progress BatchProgress
}

// batchCounts is a batch's progress, with its queued scans told apart: the dispatched ones
// (active, with the running ones) have a job, the waiting ones have none yet.
type batchCounts struct {
	BatchProgress
	active, waiting int
}

func (c *batchCounts) add(status string, dispatched bool, n int) {
	switch status {
	case "queued":
		c.Queued += n
		if dispatched {
			c.active += n
		} else {
			c.waiting += n
		}
	case "running":
		c.Running += n
		c.active += n
	case "completed":
		c.Completed += n
	case "failed":
		c.Failed += n
	case "cancelled":
		c.Cancelled += n
	}
}

// batchCountsOf counts the scans of batches (one GROUP BY on scans_batch_idx).
func batchCountsOf(ctx context.Context, q *dbq.Queries, ids ...uuid.UUID) (map[uuid.UUID]*batchCounts, error) {
	rows, err := q.ScanBatchScanCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*batchCounts, len(ids))
	for _, id := range ids {
		out[id] = &batchCounts{}
	}
	for _, r := range rows {
		out[r.BatchID].add(r.Status, r.Dispatched, int(r.Scans))
	}
	return out, nil
}

// errNoBatch is what a batch's scan finds when its batch is gone.
var errNoBatch = errors.New("scan: the batch does not exist")

func errBatchNotFound() error { return apperr.NotFound("The scan batch does not exist.") }

// StartBatch starts a batch of scans over the hosts the selector names (scan:execute).
// Hosts in maintenance (their own or their group's) and hosts with a scan queued or
// running are left out and counted as skipped. The batch, one scan per other host, the
// jobs of the first Concurrency scans, the audit event and the batch's event commit
// together; the other scans wait without a job until scans of the batch end. A batch left
// with no host is made completed. Errors: validation.failed naming the field for a
// selector that is missing or not alone, an unknown framework, rule id, group or host.
func (s *Service) StartBatch(ctx context.Context, req BatchRequest) (Batch, error) {
	if err := req.Selector.Check(); err != nil {
		return Batch{}, err
	}
	if err := s.checkRules(req.Framework, req.RuleIDs); err != nil {
		return Batch{}, err
	}
	concurrency := req.Concurrency
	if concurrency == 0 {
		concurrency = DefaultBatchConcurrency
	}
	if concurrency < 1 || concurrency > MaxBatchConcurrency {
		return Batch{}, apperr.Invalid("concurrency", fmt.Sprintf("concurrency must be between 1 and %d.", MaxBatchConcurrency))
	}
	selector, err := json.Marshal(req.Selector)
	if err != nil {
		return Batch{}, fmt.Errorf("encode batch selector: %w", err)
	}
	p := authz.PrincipalFrom(ctx)
	var out Batch
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		hosts, err := SelectHosts(ctx, q, req.Selector)
		if err != nil {
			return err
		}
		hostIDs := make([]uuid.UUID, 0, len(hosts))
		skipped := 0
		for _, h := range hosts {
			if h.EffectiveMaintenance || h.Busy {
				skipped++
				continue
			}
			hostIDs = append(hostIDs, h.ID)
		}
		now := s.now()
		ins := dbq.ScanBatchInsertParams{
			ID: newID(), Selector: selector, Framework: nonEmpty(req.Framework), RuleIds: req.RuleIDs,
			Concurrency: int32(concurrency), Status: BatchRunning, HostsTotal: int32(len(hostIDs)),
			HostsSkipped: int32(skipped), RequestedBy: p.Actor().String(), CorrelationID: reqinfo.CorrelationID(ctx),
			CreatedAt: now,
		}
		if len(hostIDs) == 0 {
			ins.Status, ins.FinishedAt = BatchCompleted, &now
		}
		b, err := q.ScanBatchInsert(ctx, ins)
		if err != nil {
			return err
		}
		dispatched := 0
		if len(hostIDs) > 0 {
			if b, err = s.insertBatchScans(ctx, q, b, hostIDs); err != nil {
				return err
			}
			if b.Status == BatchRunning {
				if dispatched, err = s.dispatch(ctx, tx, b.ID, int(b.Concurrency)); err != nil {
					return err
				}
			}
		}
		detail := map[string]any{"concurrency": concurrency, "hosts_total": b.HostsTotal, "hosts_skipped": b.HostsSkipped}
		for k, v := range selectorDetail(req.Selector) {
			detail[k] = v
		}
		addRulesDetail(detail, req.Framework, req.RuleIDs)
		if err := s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanBatchRequested, "scan_batch", b.ID.String(), detail)); err != nil {
			return err
		}
		out = Batch{ScanBatch: b, Selector: req.Selector, Progress: BatchProgress{Queued: int(b.HostsTotal)}}
		if err := s.publishBatch(ctx, tx, "scan_batch.started", b, out.Progress, map[string]any{"dispatched": dispatched}); err != nil {
			return err
		}
		if b.Status == BatchCompleted {
			return s.publishBatch(ctx, tx, "scan_batch.finished", b, out.Progress, nil)
		}
		return nil
	})
	if err != nil {
		return Batch{}, pg.Translate(err)
	}
	return out, nil
}

// SelectHosts returns the live hosts a selector names, with their maintenance and whether
// they are busy. 400 for an unknown group, or a host id that names no live host.
func SelectHosts(ctx context.Context, q *dbq.Queries, sel Selector) ([]dbq.ScanBatchHostsRow, error) {
	var p dbq.ScanBatchHostsParams
	switch {
	case sel.HostIDs != nil:
		p.HostIds = sel.HostIDs
	case sel.GroupID != nil:
		if err := groupExists(ctx, q, "group_id", *sel.GroupID); err != nil {
			return nil, err
		}
		p.GroupID = sel.GroupID
	case sel.Filter != nil:
		f := sel.Filter
		if f.GroupID != nil {
			if err := groupExists(ctx, q, "filter.group_id", *f.GroupID); err != nil {
				return nil, err
			}
		}
		p.Environment, p.Tag, p.GroupID, p.Q = f.Environment, f.Tag, f.GroupID, f.Q
	}
	rows, err := q.ScanBatchHosts(ctx, p)
	if err != nil {
		return nil, err
	}
	if sel.HostIDs != nil {
		found := make(map[uuid.UUID]bool, len(rows))
		for _, r := range rows {
			found[r.ID] = true
		}
		for _, id := range sel.HostIDs {
			if !found[id] {
				return nil, apperr.Invalid("host_ids", fmt.Sprintf("Host %s does not exist.", id)).WithDetail("host_id", id.String())
			}
		}
	}
	return rows, nil
}

func groupExists(ctx context.Context, q *dbq.Queries, field string, id uuid.UUID) error {
	ok, err := q.HostGroupExists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid(field, fmt.Sprintf("Group %s does not exist.", id))
	}
	return nil
}

// selectorDetail is the selector as the audit event records it: host ids are counted (the
// batch keeps the list).
func selectorDetail(sel Selector) map[string]any {
	switch {
	case sel.HostIDs != nil:
		return map[string]any{"selector": "host_ids", "host_ids_count": len(sel.HostIDs)}
	case sel.GroupID != nil:
		return map[string]any{"selector": "group_id", "group_id": sel.GroupID.String()}
	case sel.Filter != nil:
		return map[string]any{"selector": "filter", "filter": sel.Filter}
	}
	return map[string]any{"selector": "all"}
}

// insertBatchScans inserts one waiting scan per host of a new batch in one statement, in
// host order (scan ids follow it, so the batch dispatches its scans in that order). Hosts
// that got a scan since they were selected are left out and counted as skipped; a batch
// left with none is completed.
func (s *Service) insertBatchScans(ctx context.Context, q *dbq.Queries, b dbq.ScanBatch, hostIDs []uuid.UUID) (dbq.ScanBatch, error) {
	ids := make([]uuid.UUID, len(hostIDs))
	for i := range ids {
		ids[i] = newID()
	}
	n, err := q.ScanBatchScansInsert(ctx, dbq.ScanBatchScansInsertParams{
		Ids: ids, HostIds: hostIDs, BatchID: b.ID, Framework: b.Framework, RuleIds: b.RuleIds,
		RequestedBy: b.RequestedBy, CorrelationID: b.CorrelationID, CreatedAt: b.CreatedAt,
	})
	if err != nil {
		return b, err
	}
	if int(n) == len(hostIDs) {
		return b, nil
	}
	set := dbq.ScanBatchSetTotalsParams{ID: b.ID, HostsTotal: int32(n), HostsSkipped: b.HostsSkipped + int32(len(hostIDs)) - int32(n),
		Status: BatchRunning}
	if n == 0 {
		set.Status, set.FinishedAt = BatchCompleted, &b.CreatedAt
	}
	return q.ScanBatchSetTotals(ctx, set)
}

// dispatch gives up to n waiting scans of a batch, oldest first, their jobs in tx, and
// returns how many it dispatched.
func (s *Service) dispatch(ctx context.Context, tx pgx.Tx, batchID uuid.UUID, n int) (int, error) {
	ids, err := dbq.New(tx).ScanBatchDispatch(ctx, dbq.ScanBatchDispatchParams{BatchID: batchID, MaxScans: int32(n)})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if err := s.enqueueScans(ctx, tx, ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// scanEnded announces the end of a scan in the transaction that ends it. The end of a
// batch's scan first makes room for the next waiting scans of the batch and ends the batch
// with its last scan (batchScanEnded); the batch's event follows the scan's, and the host's
// scan_failing alert follows both (judgeScanEnd).
func (s *Service) scanEnded(ctx context.Context, tx pgx.Tx, row dbq.Scan, extra map[string]any) error {
	next, err := s.batchScanEnded(ctx, tx, row)
	if err != nil {
		return err
	}
	if err := s.publish(ctx, tx, row, "scan.finished", extra); err != nil {
		return err
	}
	if next != nil {
		if err := s.publishBatch(ctx, tx, next.typ, next.batch, next.progress, nil); err != nil {
			return err
		}
	}
	return s.judgeScanEnd(ctx, tx, row)
}

// batchEvent is an event of a batch to publish.
type batchEvent struct {
	typ      string
	batch    dbq.ScanBatch
	progress BatchProgress
}

// batchScanEnded is what the end of a scan does to its running batch, in tx: it dispatches
// the batch's oldest waiting scans so that its dispatched scans still queued or running
// are as many as its concurrency allows (or as remain), and completes the batch when none
// of its scans is queued or running any more. The batch's row lock makes the ends of its
// scans take turns, each seeing what the previous ones committed, so two scans ending at
// once never both leave the batch running, nor dispatch past its concurrency. The lock is
// taken after the scan's row and before the event log's lock, as everywhere a batch is
// locked. It returns the batch's event to publish, or nil.
func (s *Service) batchScanEnded(ctx context.Context, tx pgx.Tx, row dbq.Scan) (*batchEvent, error) {
	if row.BatchID == nil {
		return nil, nil
	}
	q := dbq.New(tx)
	b, err := q.ScanBatchLock(ctx, *row.BatchID)
	if err = pg.NotFoundAs(err, errNoBatch); errors.Is(err, errNoBatch) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if b.Status != BatchRunning {
		return nil, nil // a cancelled batch's scans end without replacement
	}
	all, err := batchCountsOf(ctx, q, b.ID)
	if err != nil {
		return nil, err
	}
	c := all[b.ID]
	if free := int(b.Concurrency) - c.active; free > 0 && c.waiting > 0 {
		if _, err := s.dispatch(ctx, tx, b.ID, free); err != nil {
			return nil, err
		}
	}
	if c.Queued+c.Running > 0 {
		return &batchEvent{"scan_batch.progress", b, c.BatchProgress}, nil
	}
	b, err = q.ScanBatchEnd(ctx, dbq.ScanBatchEndParams{ID: b.ID, Status: BatchCompleted, FinishedAt: s.now()})
	if err != nil {
		return nil, err
	}
	return &batchEvent{"scan_batch.finished", b, c.BatchProgress}, nil
}

// publishBatch puts a batch's event on the live stream (topic scans) in tx.
func (s *Service) publishBatch(ctx context.Context, tx pgx.Tx, typ string, b dbq.ScanBatch, p BatchProgress, extra map[string]any) error {
	data := map[string]any{"batch_id": b.ID.String(), "status": b.Status, "hosts_total": b.HostsTotal,
		"hosts_skipped": b.HostsSkipped, "progress": map[string]int{"queued": p.Queued, "running": p.Running,
			"completed": p.Completed, "failed": p.Failed, "cancelled": p.Cancelled}}
	for k, v := range extra {
		data[k] = v
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicScans, Type: typ, Permission: "scan:read", Data: data})
	return err
}

// stopInMaintenance ends a batch's scan cancelled when its host is in maintenance as the
// scan starts: a batch may wait hours for its turn, and maintenance set meanwhile is
// respected. It reports whether it ended the scan.
func (s *Service) stopInMaintenance(ctx context.Context, row dbq.Scan) (bool, error) {
	if row.BatchID == nil {
		return false, nil
	}
	in, err := s.q.ScanHostInMaintenance(ctx, row.HostID)
	if err != nil {
		return false, pg.IgnoreNotFound(err) // a host gone fails the scan as it connects
	}
	if !in {
		return false, nil
	}
	return true, s.finishWith(ctx, row, "cancelled", "the host is in maintenance")
}

// GetBatch returns a batch with its progress (scan:read). Errors: resource.not_found.
func (s *Service) GetBatch(ctx context.Context, id uuid.UUID) (Batch, error) {
	b, err := s.q.ScanBatchGet(ctx, id)
	if err != nil {
		return Batch{}, pg.NotFoundAs(err, errBatchNotFound())
	}
	out, err := s.withProgress(ctx, []dbq.ScanBatch{b})
	if err != nil {
		return Batch{}, err
	}
	return out[0], nil
}

// ListBatches pages batches newest first, of one status when given (scan:read).
func (s *Service) ListBatches(ctx context.Context, status *string, page cursor.Request[uuid.UUID]) (cursor.Page[Batch], error) {
	rows, err := s.q.ScanBatchList(ctx, dbq.ScanBatchListParams{Status: status, BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Batch]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(b dbq.ScanBatch) uuid.UUID { return b.ID })
	items, err := s.withProgress(ctx, cut.Items)
	if err != nil {
		return cursor.Page[Batch]{}, err
	}
	return cursor.Page[Batch]{Items: items, Next: cut.Next}, nil
}

// withProgress adds their selectors and progress to batches, counting their scans in one
// query.
func (s *Service) withProgress(ctx context.Context, rows []dbq.ScanBatch) ([]Batch, error) {
	out := make([]Batch, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, b := range rows {
		ids[i] = b.ID
	}
	counts, err := batchCountsOf(ctx, s.q, ids...)
	if err != nil {
		return nil, pg.Translate(err)
	}
	for i, b := range rows {
		out[i] = Batch{ScanBatch: b, Progress: counts[b.ID].BatchProgress}
		if err := json.Unmarshal(b.Selector, &out[i].Selector); err != nil {
			return nil, fmt.Errorf("decode selector of batch %s: %w", b.ID, err)
		}
	}
	return out, nil
}

// CancelBatch cancels a running batch (scan:cancel): its queued scans end cancelled at
// once, its running ones are asked to stop (as Cancel does), and the batch ends cancelled,
// with the audit event, in one transaction. Errors: resource.not_found;
// resource.conflict (detail status) when the batch has ended.
func (s *Service) CancelBatch(ctx context.Context, id uuid.UUID) (Batch, error) {
	cur, err := s.GetBatch(ctx, id)
	if err != nil {
		return Batch{}, err
	}
	if cur.Status != BatchRunning {
		return Batch{}, errBatchEnded(cur.Status)
	}
	p := authz.PrincipalFrom(ctx)
	var out Batch
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		now := s.now()
		// The scans first, then the audit head and the batch: the order in which the end of
		// a scan takes its locks, so the two never wait on each other.
		n, err := q.ScanBatchCancelScans(ctx, dbq.ScanBatchCancelScansParams{BatchID: id, Now: now})
		if err != nil {
			return err
		}
		if err := s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanBatchCancelled, "scan_batch", id.String(),
			map[string]any{"scans_cancelled": n.Cancelled, "scans_stopping": n.Stopping})); err != nil {
			return err
		}
		b, err := q.ScanBatchEnd(ctx, dbq.ScanBatchEndParams{ID: id, Status: BatchCancelled, FinishedAt: now})
		if err != nil {
			return pg.NotFoundAs(err, errNoBatch) // it ended meanwhile
		}
		counts, err := batchCountsOf(ctx, q, id)
		if err != nil {
			return err
		}
		out = Batch{ScanBatch: b, Selector: cur.Selector, Progress: counts[id].BatchProgress}
		return s.publishBatch(ctx, tx, "scan_batch.finished", b, out.Progress, nil)
	})
	if errors.Is(err, errNoBatch) {
		now, gerr := s.GetBatch(ctx, id)
		if gerr != nil {
			return Batch{}, gerr
		}
		return Batch{}, errBatchEnded(now.Status)
	}
	if err != nil {
		return Batch{}, pg.Translate(err)
	}
	return out, nil
}

func errBatchEnded(status string) error {
	return apperr.New(apperr.CodeConflict, "The scan batch has already ended.").WithDetail("status", status)
}
