package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
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
	"github.com/openwatch/openwatch/internal/pg"
)

// The alert states.
const (
	StateActive       = "active"
	StateAcknowledged = "acknowledged"
	StateSilenced     = "silenced"
	StateResolved     = "resolved"
	StateDismissed    = "dismissed"
)

// The event types published on the alerts topic.
const (
	EventRaised       = "alert.raised"
	EventRecurred     = "alert.recurred"
	EventAcknowledged = "alert.acknowledged"
	EventSilenced     = "alert.silenced"
	EventUnsilenced   = "alert.unsilenced"
	EventResolved     = "alert.resolved"
	EventDismissed    = "alert.dismissed"
)

// Options tunes the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Chain verifies the audit chain for the periodic check (VerifyChain); ChainInterval
	// is how often it runs, 0 for never.
	Chain         ChainVerifier
	ChainInterval time.Duration
	// Defaults are the thresholds in force while no one stored others (DefaultConfig when
	// zero).
	Defaults Config
}

// Service raises, lists and moves alerts.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	log   *slog.Logger
	now   func() time.Time
	chain ChainVerifier
	// chainEvery is how often the audit chain is verified (0: never).
	chainEvery time.Duration
	defaults   Config
}

// NewService returns the alert service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Defaults == (Config{}) {
		opts.Defaults = DefaultConfig
	}
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, log: opts.Logger, now: opts.Now,
		chain: opts.Chain, chainEvery: opts.ChainInterval, defaults: opts.Defaults}
}

// Raise describes one occurrence of an alert condition.
type Raise struct {
	DedupKey  string
	AlertType string
	Severity  string
	HostID    *uuid.UUID
	RuleID    *string
	Title     string
	Body      string
	Tags      map[string]any
	// At is when the condition occurred; zero means now.
	At time.Time
}

// Raised is the outcome of RaiseTx.
type Raised struct {
	Alert dbq.Alert
	// New is false when the occurrence was counted on the live alert of its key.
	New bool
}

// RaiseTx records an occurrence inside the caller's transaction: a new active alert, or
// one more occurrence of the live alert of the same dedup key. An alert of a host in
// maintenance is recorded as suppressed. It publishes alert.raised or alert.recurred.
func RaiseTx(ctx context.Context, tx pgx.Tx, r Raise) (Raised, error) {
	q := dbq.New(tx)
	if r.At.IsZero() {
		r.At = time.Now()
	}
	suppressed := false
	if r.HostID != nil {
		m, err := q.AlertHostInMaintenance(ctx, *r.HostID)
		if err = pg.IgnoreNotFound(err); err != nil {
			return Raised{}, err
		}
		suppressed = m
	}
	tags := r.Tags
	if tags == nil {
		tags = map[string]any{}
	}
	raw, err := json.Marshal(tags)
	if err != nil {
		return Raised{}, fmt.Errorf("encode alert tags: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Raised{}, err
	}
	row, err := q.AlertRaise(ctx, dbq.AlertRaiseParams{ID: id, DedupKey: r.DedupKey, AlertType: r.AlertType,
		Severity: r.Severity, HostID: r.HostID, RuleID: r.RuleID, Title: r.Title, Body: r.Body, Tags: raw,
		Suppressed: suppressed, At: r.At})
	if err != nil {
		return Raised{}, pg.Translate(err)
	}
	a := dbq.Alert{ID: row.ID, AlertType: row.AlertType, HostID: row.HostID, Severity: row.Severity, State: row.State,
		Title: row.Title, Tags: row.Tags, OccurredAt: row.OccurredAt, ResolvedAt: row.ResolvedAt, UpdatedAt: row.UpdatedAt,
		DedupKey: row.DedupKey, RuleID: row.RuleID, Body: row.Body, AcknowledgedBy: row.AcknowledgedBy,
		AcknowledgedAt: row.AcknowledgedAt, SilencedBy: row.SilencedBy, SilencedUntil: row.SilencedUntil,
		ResolvedBy: row.ResolvedBy, DismissedBy: row.DismissedBy, DismissedAt: row.DismissedAt,
		Suppressed: row.Suppressed, OccurrenceCount: row.OccurrenceCount, LastOccurredAt: row.LastOccurredAt,
		CreatedAt: row.CreatedAt}
	typ := EventRecurred
	if row.Inserted {
		typ = EventRaised
	}
	if err := publish(ctx, tx, typ, a, nil, "", r.At); err != nil {
		return Raised{}, err
	}
	return Raised{Alert: a, New: row.Inserted}, nil
}

// AutoResolveTx resolves the live alert of dedupKey inside the caller's transaction (its
// condition cleared), audited as the system. It returns the alerts resolved (none or one).
func AutoResolveTx(ctx context.Context, tx pgx.Tx, aw *audit.Writer, dedupKey string, at time.Time) ([]dbq.Alert, error) {
	if at.IsZero() {
		at = time.Now()
	}
	rows, err := dbq.New(tx).AlertAutoResolve(ctx, dbq.AlertAutoResolveParams{DedupKey: dedupKey, At: at})
	if err != nil {
		return nil, pg.Translate(err)
	}
	for _, a := range rows {
		ev := audit.For(ctx, nil, audit.ActionAlertResolved, "alert", a.ID.String(),
			map[string]any{"dedup_key": a.DedupKey, "automatic": true})
		ev.ActorType, ev.ActorID = audit.ActorSystem, ""
		if err := aw.Append(ctx, tx, ev); err != nil {
			return nil, err
		}
		if err := publish(ctx, tx, EventResolved, a, nil, "", at); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// publish records the transition typ of alert a by actor (nil: the system) in tx: its row
// in alert_transitions (the dispatcher's outbox and the alert's history), the NOTIFY that
// wakes the dispatchers at commit, and the event on the live stream.
func publish(ctx context.Context, tx pgx.Tx, typ string, a dbq.Alert, actor *authz.Principal, reason string, at time.Time) error {
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	// Both travel with the commit: recording the transition costs no round trip of its own.
	q := dbq.New(pg.AtCommit(tx))
	if err := q.AlertTransitionInsert(ctx, dbq.AlertTransitionInsertParams{ID: id, AlertID: a.ID,
		Transition: strings.TrimPrefix(typ, "alert."), Actor: actorName(actor), Reason: reason, At: at}); err != nil {
		return pg.Translate(err)
	}
	if err := q.AlertTransitionNotify(ctx, a.ID.String()); err != nil {
		return pg.Translate(err)
	}
	_, err = events.Publish(ctx, tx, events.Event{Topic: events.TopicAlerts, Type: typ, HostID: a.HostID,
		Permission: authz.PermAlertRead, Data: map[string]any{
			"alert_id": a.ID, "alert_type": a.AlertType, "host_id": a.HostID, "severity": a.Severity,
			"state": a.State, "dedup_key": a.DedupKey, "occurrence_count": a.OccurrenceCount}})
	return err
}

// Filter narrows a list.
type Filter struct {
	State    *string
	HostID   *uuid.UUID
	Severity *string
	Since    *time.Time
	Until    *time.Time
}

// List pages alerts newest first under f. Guarded by alert:read.
func (s *Service) List(ctx context.Context, f Filter, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.Alert], error) {
	rows, err := s.q.AlertList(ctx, dbq.AlertListParams{State: f.State, HostID: f.HostID, Severity: f.Severity,
		Since: f.Since, Until: f.Until, BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.Alert]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(a dbq.Alert) uuid.UUID { return a.ID }), nil
}

// Get returns one alert. Guarded by alert:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbq.Alert, error) {
	a, err := s.q.AlertGetByID(ctx, id)
	if err != nil {
		return dbq.Alert{}, notFound(pg.Translate(err))
	}
	return a, nil
}

func notFound(err error) error {
	if apperr.Is(err, apperr.CodeNotFound) {
		return apperr.NotFound("There is no such alert.")
	}
	return err
}

// Action is a transition a user asks for.
type Action string

// The actions.
const (
	Acknowledge Action = "acknowledge"
	Silence     Action = "silence"
	Resolve     Action = "resolve"
	Dismiss     Action = "dismiss"
)

// from lists the states each action may leave.
var from = map[Action][]string{
	Acknowledge: {StateActive},
	Silence:     {StateActive, StateAcknowledged},
	Resolve:     {StateActive, StateAcknowledged, StateSilenced},
	Dismiss:     {StateActive, StateAcknowledged, StateSilenced},
}

// Allowed reports whether action may move an alert out of state.
func Allowed(action Action, state string) bool {
	for _, s := range from[action] {
		if s == state {
			return true
		}
	}
	return false
}

// Input is what comes with an action.
type Input struct {
	Reason string
	Until  *time.Time
}

// Transition applies action to the alert id for actor, audited and published in one
// transaction. Guarded by alert:acknowledge (acknowledge), alert:resolve (resolve) and
// alert:write (silence, dismiss). Errors: validation_failed (until missing or not in the
// future for silence), resource.not_found, resource.conflict (the action is not allowed
// from the current state, named in detail.state).
func (s *Service) Transition(ctx context.Context, actor *authz.Principal, id uuid.UUID, action Action, in Input) (dbq.Alert, error) {
	now := s.now()
	if action == Silence {
		if in.Until == nil {
			return dbq.Alert{}, apperr.Invalid("until", "until is required to silence an alert")
		}
		if !in.Until.After(now) {
			return dbq.Alert{}, apperr.Invalid("until", "until must be in the future")
		}
	}
	var out dbq.Alert
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		a, err := q.AlertGetForUpdate(ctx, id)
		if err != nil {
			return notFound(pg.Translate(err))
		}
		if !Allowed(action, a.State) {
			return apperr.Conflict(fmt.Sprintf("An alert that is %s cannot be %s.", a.State, pastTense(action))).
				WithDetail("state", a.State).WithDetail("action", string(action))
		}
		p := dbq.AlertSetStateParams{ID: a.ID, At: now,
			AcknowledgedBy: a.AcknowledgedBy, AcknowledgedAt: a.AcknowledgedAt,
			SilencedBy: a.SilencedBy, SilencedUntil: a.SilencedUntil,
			ResolvedBy: a.ResolvedBy, ResolvedAt: a.ResolvedAt,
			DismissedBy: a.DismissedBy, DismissedAt: a.DismissedAt}
		by := actor.Actor().UserID()
		var act audit.Action
		var typ string
		detail := map[string]any{"from": a.State}
		switch action {
		case Acknowledge:
			p.State, p.AcknowledgedBy, p.AcknowledgedAt = StateAcknowledged, by, &now
			act, typ = audit.ActionAlertAcknowledged, EventAcknowledged
		case Silence:
			p.State, p.SilencedBy, p.SilencedUntil = StateSilenced, by, in.Until
			act, typ = audit.ActionAlertSilenced, EventSilenced
			detail["until"] = in.Until.UTC().Format(time.RFC3339)
		case Resolve:
			p.State, p.ResolvedBy, p.ResolvedAt, p.SilencedUntil = StateResolved, by, &now, nil
			act, typ = audit.ActionAlertResolved, EventResolved
		case Dismiss:
			p.State, p.DismissedBy, p.DismissedAt, p.SilencedUntil = StateDismissed, by, &now, nil
			act, typ = audit.ActionAlertDismissed, EventDismissed
		}
		if in.Reason != "" {
			detail["reason"] = in.Reason
		}
		out, err = q.AlertSetState(ctx, p)
		if err != nil {
			return pg.Translate(err)
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, act, "alert", a.ID.String(), detail)); err != nil {
			return err
		}
		return publish(ctx, tx, typ, out, actor, in.Reason, now)
	})
	return out, err
}

func pastTense(a Action) string {
	switch a {
	case Acknowledge:
		return "acknowledged"
	case Silence:
		return "silenced"
	case Resolve:
		return "resolved"
	default:
		return "dismissed"
	}
}

// ExpireSilences returns to active every silenced alert whose silence has run out,
// audited as the system; the periodic job calls it. It returns how many it woke.
func (s *Service) ExpireSilences(ctx context.Context) (int, error) {
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).AlertUnsilenceDue(ctx, s.now())
		if err != nil {
			return pg.Translate(err)
		}
		n = len(rows)
		for _, a := range rows {
			if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionAlertUnsilenced, "alert", a.ID.String(), nil)); err != nil {
				return err
			}
			if err := publish(ctx, tx, EventUnsilenced, a, nil, "", a.UpdatedAt); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// actorName names who made a transition in its history: "system", "user:<id>" or
// "service_account:<id>".
func actorName(p *authz.Principal) string {
	a := p.Actor()
	if a.Kind == authz.ActorSystem {
		return "system"
	}
	return string(a.Kind) + ":" + a.ID.String()
}

// History returns the transitions of alert id, oldest first (at most 500). Guarded by
// alert:read. Errors: resource.not_found.
func (s *Service) History(ctx context.Context, id uuid.UUID) ([]dbq.AlertTransition, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.q.AlertTransitionList(ctx, dbq.AlertTransitionListParams{AlertID: id, RowLimit: 500})
	if err != nil {
		return nil, pg.Translate(err)
	}
	return rows, nil
}
