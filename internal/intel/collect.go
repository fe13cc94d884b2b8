package intel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/sshx"
)

func errNoSystemInfo() error {
	return apperr.NotFound("The host has not been discovered yet; run discovery first.")
}

func errNoSnapshot() error {
	return apperr.NotFound("No intelligence has been collected from the host yet.")
}

// State is a host's latest intelligence: one entry per category collected so far.
type State struct {
	HostID      uuid.UUID
	CollectedAt time.Time
	Categories  []dbq.HostIntelCategory
}

// Collect connects to the host (one SSH connection, one session, as root when the host
// allows it), collects every category, stores what changed and records the differences as
// intelligence events, all in one transaction at the end: a run killed half-way wrote
// nothing, and a repeated run compares against what the first stored and raises nothing
// twice. A category whose command failed keeps its last good value, marked not fresh.
// actor is the caller of an on-demand run (audited), nil for a job. Guarded by host:write.
// Errors: resource.not_found, host.busy, host.unreachable, host.key_mismatch.
func (s *Service) Collect(ctx context.Context, actor *authz.Principal, hostID uuid.UUID) (State, error) {
	var state State
	attempted := func(ctx context.Context, at time.Time) error {
		return s.q.IntelScheduleMarkIntel(ctx, dbq.IntelScheduleMarkIntelParams{HostIds: []uuid.UUID{hostID}, At: at})
	}
	err := s.onHost(ctx, lockIntel, hostID, intelCommands, attempted, func(br sshx.BatchResult, st Stats) error {
		var err error
		state, _, err = s.storeCollection(ctx, actor, hostID, parseIntel(br, isRoot(br.Privilege)), st)
		return err
	})
	if err != nil {
		return State{}, err
	}
	return state, nil
}

// storeCollection writes a collection's categories and events in one transaction.
func (s *Service) storeCollection(ctx context.Context, actor *authz.Principal, hostID uuid.UUID, outcomes map[string]outcome, st Stats) (State, []dbq.IntelligenceEvent, error) {
	now := s.now().UTC()
	var (
		state State
		evs   []dbq.IntelligenceEvent
	)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		stored, err := q.IntelCategoriesLock(ctx, hostID)
		if err != nil {
			return pg.Translate(err)
		}
		prev := map[string]dbq.HostIntelCategory{}
		for _, r := range stored {
			prev[r.Category] = r
		}
		var changes []Change
		failed := 0
		for _, cat := range Categories {
			o := outcomes[cat]
			if o.value == nil {
				failed++
			}
			ch, err := storeCategory(ctx, q, hostID, cat, prev, o, now)
			if err != nil {
				return err
			}
			changes = append(changes, ch...)
		}
		if evs, err = s.insertEvents(ctx, tx, hostID, changes, now); err != nil {
			return err
		}
		if s.inventoryChanged != nil && outcomes[CatPackages].value != nil {
			if err := s.inventoryChanged(ctx, tx, hostID); err != nil {
				return err
			}
		}
		if err := q.IntelScheduleMarkIntel(ctx, dbq.IntelScheduleMarkIntelParams{HostIds: []uuid.UUID{hostID}, At: now}); err != nil {
			return pg.Translate(err)
		}
		if actor != nil {
			if err := s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostIntelCollected, "host", hostID.String(),
				map[string]any{"events": len(evs), "failed_categories": failed, "ssh_sessions": st.Sessions,
					"privilege": string(st.Privilege)})); err != nil {
				return err
			}
		}
		state, err = loadState(ctx, q, hostID)
		return err
	})
	return state, evs, err
}

// storeCategory writes one category and returns its differences from the stored value.
func storeCategory(ctx context.Context, q *dbq.Queries, hostID uuid.UUID, cat string, prev map[string]dbq.HostIntelCategory, o outcome, now time.Time) ([]Change, error) {
	old, had := prev[cat]
	hasOld := had && old.Value != nil
	var errText *string
	if o.err != nil {
		errText = ptr(o.err.Error())
	}
	if o.value == nil {
		if o.err == nil {
			o.err = errors.New("no value")
		}
		p := dbq.IntelCategoryUpsertParams{HostID: hostID, Category: cat, CollectedAt: now, Fresh: false, Error: errText}
		if hasOld {
			p.Value, p.ValueHash, p.CollectedAt, p.ChangedAt = old.Value, old.ValueHash, old.CollectedAt, old.ChangedAt
		}
		return nil, pg.Translate(q.IntelCategoryUpsert(ctx, p))
	}
	value := o.value
	var pe *partialError
	if errors.As(o.err, &pe) && hasOld {
		value = keepMissing(value, old.Value, pe.missing)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("intel: encode %s: %w", cat, err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	fresh := o.err == nil
	if hasOld && old.ValueHash != nil && *old.ValueHash == hash {
		return nil, pg.Translate(q.IntelCategoryTouch(ctx, dbq.IntelCategoryTouchParams{HostID: hostID, Category: cat,
			CollectedAt: now, Fresh: fresh, Error: errText}))
	}
	var changes []Change
	if hasOld {
		if changes, err = diffCategory(cat, old.Value, value); err != nil {
			return nil, err
		}
	}
	return changes, pg.Translate(q.IntelCategoryUpsert(ctx, dbq.IntelCategoryUpsertParams{HostID: hostID, Category: cat,
		Value: raw, ValueHash: &hash, CollectedAt: now, ChangedAt: &now, Fresh: fresh, Error: errText}))
}

// keepMissing returns value (a map[string]string of file hashes) with the stored entries
// of the keys that could not be read this time.
func keepMissing(value any, oldJSON []byte, missing []string) any {
	files, ok := value.(map[string]string)
	if !ok {
		return value
	}
	var old map[string]string
	if json.Unmarshal(oldJSON, &old) != nil {
		return value
	}
	for _, k := range missing {
		if v, ok := old[k]; ok {
			files[k] = v
		}
	}
	return files
}

// insertEvents stores the changes as intelligence events and publishes each on the live
// stream.
func (s *Service) insertEvents(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, changes []Change, now time.Time) ([]dbq.IntelligenceEvent, error) {
	q := dbq.New(tx)
	corr := reqinfo.CorrelationID(ctx)
	out := make([]dbq.IntelligenceEvent, 0, len(changes))
	for _, c := range changes {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, apperr.Internal(err)
		}
		detail, err := json.Marshal(c.Detail)
		if err != nil {
			return nil, fmt.Errorf("intel: encode event detail: %w", err)
		}
		ev := dbq.IntelligenceEvent{ID: id, HostID: hostID, EventCode: c.Code, Severity: c.Severity, Detail: detail,
			OccurredAt: now, DetectedAt: now, CorrelationID: corr}
		if err := q.IntelEventInsert(ctx, dbq.IntelEventInsertParams{ID: ev.ID, HostID: ev.HostID, EventCode: ev.EventCode,
			Severity: ev.Severity, Detail: ev.Detail, OccurredAt: ev.OccurredAt, DetectedAt: ev.DetectedAt,
			CorrelationID: ev.CorrelationID}); err != nil {
			return nil, pg.Translate(err)
		}
		if _, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicIntelligence, Type: "intelligence.event",
			HostID: &hostID, Permission: authz.PermHostRead, Data: map[string]any{
				"id": ev.ID, "host_id": hostID, "event_code": c.Code, "severity": c.Severity, "detail": c.Detail,
				"occurred_at": now,
			}}); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// loadState reads a host's categories; resource.not_found when nothing was collected.
func loadState(ctx context.Context, q *dbq.Queries, hostID uuid.UUID) (State, error) {
	rows, err := q.IntelCategoriesGet(ctx, hostID)
	if err != nil {
		return State{}, pg.Translate(err)
	}
	if len(rows) == 0 {
		return State{}, errNoSnapshot()
	}
	st := State{HostID: hostID, Categories: rows}
	for _, r := range rows {
		if r.CollectedAt.After(st.CollectedAt) {
			st.CollectedAt = r.CollectedAt
		}
	}
	return st, nil
}

// State returns a host's latest intelligence. Guarded by host:read.
// Errors: resource.not_found (unknown host, or nothing collected yet).
func (s *Service) State(ctx context.Context, hostID uuid.UUID) (State, error) {
	if err := s.checkHost(ctx, hostID); err != nil {
		return State{}, err
	}
	return loadState(ctx, s.q, hostID)
}
