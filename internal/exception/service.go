package exception

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/vuln"
)

// The exception statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusRevoked  = "revoked"
	StatusExpired  = "expired"
)

// The kinds: what an exception accepts.
const (
	KindRule          = "rule"
	KindVulnerability = "vulnerability"
)

// The scopes.
const (
	ScopeHost  = "host"
	ScopeGroup = "group"
	ScopeFleet = "fleet"
)

// The alert types exceptions raise.
const (
	AlertExpired  = "exception_expired"
	AlertExpiring = "exception_expiring"
)

// The event types published on the live stream (topic scans: an exception changes
// compliance results).
const (
	EventRequested = "exception.requested"
	EventApproved  = "exception.approved"
	EventRejected  = "exception.rejected"
	EventRevoked   = "exception.revoked"
	EventExpired   = "exception.expired"
)

// Options tunes the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// MaxLifetime bounds expires_at from the request (compliance.exception_max_days).
	MaxLifetime time.Duration
	// ExpiringWindow is how long before its expiry an approved exception raises
	// exception_expiring (compliance.exception_expiring_days); 0 raises none.
	ExpiringWindow time.Duration
}

// Service requests, decides and expires exceptions and keeps results in line with them.
type Service struct {
	pool    *pgxpool.Pool
	q       *dbq.Queries
	audit   *audit.Writer
	scans   *scan.Service
	log     *slog.Logger
	now     func() time.Time
	maxLife time.Duration
	window  time.Duration
}

// NewService returns the exception service; scans restates results and knows the rules.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, scans *scan.Service, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = 365 * 24 * time.Hour
	}
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, scans: scans, log: opts.Logger, now: opts.Now,
		maxLife: opts.MaxLifetime, window: opts.ExpiringWindow}
}

// Request is what a request for an exception carries.
type Request struct {
	// Kind is KindRule (the default when empty, with RuleID) or KindVulnerability (with
	// AdvisoryID: an advisory id or an alias one names).
	Kind       string
	RuleID     string
	AdvisoryID string
	Scope      string
	HostID     *uuid.UUID
	GroupID    *uuid.UUID
	Reason     string
	ExpiresAt  time.Time
}

// Request records a pending exception for actor, audited and published in one
// transaction. Guarded by exception:request. Errors: validation_failed naming kind,
// rule_id, advisory_id (unknown, missing, or given for the other kind), scope, host_id,
// group_id, reason or expires_at; resource.not_found for a host that does
// not exist (hostPath: the host is the path's); resource.conflict when an open exception
// of the same scope and subject exists.
func (s *Service) Request(ctx context.Context, actor *authz.Principal, in Request, hostPath bool) (dbq.ComplianceException, error) {
	now := s.now()
	in.Reason = strings.TrimSpace(in.Reason)
	in.AdvisoryID = strings.TrimSpace(in.AdvisoryID)
	if in.Kind == "" {
		in.Kind = KindRule
	}
	if err := s.validate(in, now); err != nil {
		return dbq.ComplianceException{}, err
	}
	var advisory *string
	if in.Kind == KindVulnerability {
		advisory = &in.AdvisoryID
	}
	var out dbq.ComplianceException
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if advisory != nil {
			known, err := q.ExceptionAdvisoryKnown(ctx, *advisory)
			if err != nil {
				return err
			}
			if !known {
				return apperr.Invalid("advisory_id", fmt.Sprintf(
					"No imported advisory has the id or alias %q; GET /vulnerabilities lists them.", *advisory))
			}
		}
		switch in.Scope {
		case ScopeHost:
			ok, err := q.ScanHostExists(ctx, *in.HostID)
			if err != nil {
				return err
			}
			if !ok && hostPath {
				return apperr.NotFound("The host does not exist.")
			}
			if !ok {
				return apperr.Invalid("host_id", "No host has this id.")
			}
		case ScopeGroup:
			ok, err := q.ExceptionGroupExists(ctx, *in.GroupID)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.Invalid("group_id", "No host group has this id.")
			}
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		out, err = q.ExceptionInsert(ctx, dbq.ExceptionInsertParams{ID: id, Kind: in.Kind, RuleID: in.RuleID,
			AdvisoryID: advisory, Scope: in.Scope,
			HostID: in.HostID, GroupID: in.GroupID, Reason: in.Reason, ExpiresAt: in.ExpiresAt,
			RequestedBy: actor.Actor().String(), RequestedAt: now, CorrelationID: reqinfo.CorrelationID(ctx)})
		if err != nil {
			if err := pg.Translate(err); apperr.Is(err, apperr.CodeConflict) {
				if in.Kind == KindVulnerability {
					return apperr.Conflict("A pending or approved exception of this vulnerability already exists for this scope.")
				}
				return apperr.Conflict("A pending or approved exception of this rule already exists for this scope.")
			}
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionExceptionRequested, "exception",
			out.ID.String(), s.detail(out, in.Reason))); err != nil {
			return err
		}
		if err := publish(ctx, tx, EventRequested, out); err != nil {
			return err
		}
		// Everyone who may approve hears of it in their feed.
		_, err = notify.FeedAddTx(ctx, tx, notify.FeedItem{Kind: EventRequested,
			Title: "Exception awaiting approval: " + s.SubjectTitle(out), Body: out.Reason,
			Link: feedLink(out.ID), Permission: authz.PermExceptionApprove}, now)
		return err
	})
	return out, pg.Translate(err)
}

func (s *Service) validate(in Request, now time.Time) error {
	switch in.Kind {
	case KindRule:
		switch {
		case in.AdvisoryID != "":
			return apperr.Invalid("advisory_id", "A rule exception takes no advisory_id; set kind to vulnerability to except a vulnerability.")
		case in.RuleID == "":
			return apperr.Invalid("rule_id", "A rule exception needs rule_id.")
		case !s.scans.RuleKnown(in.RuleID):
			return apperr.Invalid("rule_id", fmt.Sprintf("Unknown rule %q; GET /rules lists them.", in.RuleID))
		}
	case KindVulnerability:
		switch {
		case in.RuleID != "":
			return apperr.Invalid("rule_id", "A vulnerability exception takes no rule_id.")
		case in.AdvisoryID == "":
			return apperr.Invalid("advisory_id", "A vulnerability exception needs advisory_id (an advisory id or a CVE id it aliases).")
		}
	default:
		return apperr.Invalid("kind", "kind must be rule or vulnerability.")
	}
	switch {
	case in.Reason == "":
		return apperr.Invalid("reason", "A reason is required: say why the risk is accepted.")
	case in.ExpiresAt.IsZero():
		return apperr.Invalid("expires_at", "An expiry is required.")
	case !in.ExpiresAt.After(now):
		return apperr.Invalid("expires_at", "The expiry must be in the future.")
	case in.ExpiresAt.After(now.Add(s.maxLife)):
		return apperr.Invalid("expires_at", fmt.Sprintf("An exception may last at most %d days (compliance.exception_max_days).",
			int(s.maxLife/(24*time.Hour))))
	}
	switch in.Scope {
	case ScopeHost:
		if in.GroupID != nil {
			return apperr.Invalid("group_id", "A host exception takes no group_id.")
		}
		if in.HostID == nil {
			return apperr.Invalid("host_id", "A host exception needs host_id.")
		}
	case ScopeGroup:
		if in.HostID != nil {
			return apperr.Invalid("host_id", "A group exception takes no host_id.")
		}
		if in.GroupID == nil {
			return apperr.Invalid("group_id", "A group exception needs group_id.")
		}
	case ScopeFleet:
		if in.HostID != nil {
			return apperr.Invalid("host_id", "A fleet-wide exception takes no host_id.")
		}
		if in.GroupID != nil {
			return apperr.Invalid("group_id", "A fleet-wide exception takes no group_id.")
		}
	default:
		return apperr.Invalid("scope", "scope must be host, group or fleet.")
	}
	return nil
}

// Filter narrows a list.
type Filter struct {
	Status, RuleID, Scope, RequestedBy *string
	Kind, AdvisoryID                   *string
	HostID, GroupID                    *uuid.UUID
	ExpiringBefore                     *time.Time
}

// List pages exceptions newest first under f. Guarded by exception:read.
func (s *Service) List(ctx context.Context, f Filter, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.ComplianceException], error) {
	rows, err := s.q.ExceptionList(ctx, dbq.ExceptionListParams{Status: f.Status, RuleID: f.RuleID, Scope: f.Scope,
		GroupID: f.GroupID, RequestedBy: f.RequestedBy, Kind: f.Kind, AdvisoryID: f.AdvisoryID, ExpiringBefore: f.ExpiringBefore, HostID: f.HostID,
		BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.ComplianceException]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(e dbq.ComplianceException) uuid.UUID { return e.ID }), nil
}

// ListForHost is List of the exceptions covering a live host. Guarded by exception:read.
// Errors: resource.not_found for a host that does not exist or was deleted.
func (s *Service) ListForHost(ctx context.Context, hostID uuid.UUID, status *string, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.ComplianceException], error) {
	ok, err := s.q.ScanHostExists(ctx, hostID)
	if err != nil {
		return cursor.Page[dbq.ComplianceException]{}, pg.Translate(err)
	}
	if !ok {
		return cursor.Page[dbq.ComplianceException]{}, apperr.NotFound("The host does not exist.")
	}
	return s.List(ctx, Filter{Status: status, HostID: &hostID}, page)
}

// Get returns one exception. Guarded by exception:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbq.ComplianceException, error) {
	e, err := s.q.ExceptionGet(ctx, id)
	if err != nil {
		return dbq.ComplianceException{}, notFound(pg.Translate(err))
	}
	return e, nil
}

func notFound(err error) error {
	if apperr.Is(err, apperr.CodeNotFound) {
		return apperr.NotFound("There is no such exception.")
	}
	return err
}

// SubjectTitle names what an exception accepts: its rule's title, or the advisory.
func (s *Service) SubjectTitle(e dbq.ComplianceException) string {
	if e.Kind == KindVulnerability && e.AdvisoryID != nil {
		return "vulnerability " + *e.AdvisoryID
	}
	return s.RuleTitle(e.RuleID)
}

// RuleTitle returns the title of a rule (its id when it left the corpus).
func (s *Service) RuleTitle(ruleID string) string {
	_, title := s.scans.RuleSeverityTitle(ruleID)
	return title
}

// Action is a decision a user asks for.
type Action string

// The actions.
const (
	Approve Action = "approve"
	Reject  Action = "reject"
	Revoke  Action = "revoke"
)

// from is the status each action leaves, to the one it reaches.
var moves = map[Action]struct{ from, to string }{
	Approve: {StatusPending, StatusApproved},
	Reject:  {StatusPending, StatusRejected},
	Revoke:  {StatusApproved, StatusRevoked},
}

// ErrFourEyes is the refusal of a requester deciding their own request.
func errFourEyes() error {
	return apperr.New(apperr.CodePermissionDenied, "You requested this exception; another person must approve it.").
		WithDetail("reason", "four_eyes")
}

// Decide applies action to the exception id for actor with a reason, audited and
// published in one transaction that also restates the covered hosts' results (approve:
// fail → excepted; revoke: excepted → fail). Guarded by exception:approve (approve,
// reject) and exception:revoke (revoke). Errors: validation_failed naming reason;
// authz.permission_denied (detail.reason four_eyes) when actor requested it (approve,
// reject); resource.not_found; resource.conflict naming the current state in
// detail.state when the action is not allowed from it, or the exception has expired.
func (s *Service) Decide(ctx context.Context, actor *authz.Principal, id uuid.UUID, action Action, reason string) (dbq.ComplianceException, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return dbq.ComplianceException{}, apperr.Invalid("reason", "A reason is required.")
	}
	m, ok := moves[action]
	if !ok {
		return dbq.ComplianceException{}, fmt.Errorf("exception: unknown action %q", action)
	}
	now := s.now()
	var out dbq.ComplianceException
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		e, err := q.ExceptionGetForUpdate(ctx, id)
		if err != nil {
			return notFound(pg.Translate(err))
		}
		if action != Revoke && e.RequestedBy == actor.Actor().String() {
			return errFourEyes()
		}
		if e.Status != m.from {
			return apperr.Conflict(fmt.Sprintf("An exception that is %s cannot be %s.", e.Status, pastTense(action))).
				WithDetail("state", e.Status).WithDetail("action", string(action))
		}
		if !e.ExpiresAt.After(now) {
			return apperr.Conflict("The exception has reached its expiry; request a new one.").
				WithDetail("state", e.Status).WithDetail("action", string(action))
		}
		out, err = q.ExceptionDecide(ctx, dbq.ExceptionDecideParams{ID: e.ID, Status: m.to, Actor: actor.Actor().String(),
			At: now, Reason: reason})
		if err != nil {
			return err
		}
		restated, err := s.restate(ctx, tx, out, now)
		if err != nil {
			return err
		}
		if err := s.vulnAlerts(ctx, tx, out, now); err != nil {
			return err
		}
		detail := s.detail(out, reason)
		detail["from"], detail["hosts_restated"] = e.Status, len(restated)
		act, typ := audit.ActionExceptionApproved, EventApproved
		switch action {
		case Reject:
			act, typ = audit.ActionExceptionRejected, EventRejected
		case Revoke:
			act, typ = audit.ActionExceptionRevoked, EventRevoked
			if _, err := alert.AutoResolveTx(ctx, tx, s.audit, expiringKey(out.ID), now); err != nil {
				return err
			}
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, act, "exception", out.ID.String(), detail)); err != nil {
			return err
		}
		if err := publish(ctx, tx, typ, out); err != nil {
			return err
		}
		return s.tellRequester(ctx, tx, out, typ, reason, now)
	})
	return out, pg.Translate(err)
}

// feedLink is the UI path of an exception.
func feedLink(id uuid.UUID) string { return "/exceptions?exception=" + id.String() }

// tellRequester puts a decision on an exception into its requester's feed, when a person
// (not a service account) requested it and someone else decided.
func (s *Service) tellRequester(ctx context.Context, tx pgx.Tx, e dbq.ComplianceException, kind, reason string, now time.Time) error {
	uid, err := uuid.Parse(e.RequestedBy)
	if err != nil || (e.DecidedBy != nil && *e.DecidedBy == e.RequestedBy) {
		return nil //nolint:nilerr // the system or a non-person requested it: nobody to tell
	}
	if _, err := dbq.New(tx).UserGetByID(ctx, uid); err != nil {
		return pg.IgnoreNotFound(err)
	}
	_, err = notify.FeedAddTx(ctx, tx, notify.FeedItem{Kind: kind,
		Title: fmt.Sprintf("Your exception was %s: %s", e.Status, s.SubjectTitle(e)), Body: reason,
		Link: feedLink(e.ID), UserID: &uid}, now)
	return err
}

// restate brings the results of the hosts an exception covers (or covered: those whose
// result names it) in line with the exceptions in force now.
func (s *Service) restate(ctx context.Context, tx pgx.Tx, e dbq.ComplianceException, now time.Time) ([]scan.Restated, error) {
	if e.Kind != KindRule {
		return nil, nil // exposures are read against the exceptions in force: nothing to rewrite
	}
	q := dbq.New(tx)
	hosts, err := q.ExceptionCoveredHosts(ctx, dbq.ExceptionCoveredHostsParams{Scope: e.Scope, HostID: e.HostID, GroupID: e.GroupID})
	if err != nil {
		return nil, err
	}
	named, err := q.ExceptionStatesExcepted(ctx, &e.ID)
	if err != nil {
		return nil, err
	}
	seen := make(map[uuid.UUID]bool, len(hosts))
	for _, h := range hosts {
		seen[h] = true
	}
	for _, h := range named {
		if !seen[h] {
			hosts = append(hosts, h) // left the scope since (a group member moved)
		}
	}
	return s.scans.ReconcileExceptionsTx(ctx, tx, hosts, e.RuleID, now)
}

// vulnAlerts keeps the vulnerability_critical alerts in line with a vulnerability
// exception that just changed: approval resolves those of the exposures it excepts;
// revocation and expiry raise them again for the critical exposures it covered that no
// other exception excepts.
func (s *Service) vulnAlerts(ctx context.Context, tx pgx.Tx, e dbq.ComplianceException, now time.Time) error {
	if e.Kind != KindVulnerability || e.AdvisoryID == nil {
		return nil
	}
	switch e.Status {
	case StatusApproved:
		_, err := vuln.ResolveStaleCriticalTx(ctx, tx, s.audit, now)
		return err
	case StatusRevoked, StatusExpired:
		_, err := vuln.ExceptionEndedTx(ctx, tx, *e.AdvisoryID, e.Scope, e.HostID, e.GroupID, now)
		return err
	}
	return nil
}

func pastTense(a Action) string {
	switch a {
	case Approve:
		return "approved"
	case Reject:
		return "rejected"
	default:
		return "revoked"
	}
}

func (s *Service) detail(e dbq.ComplianceException, reason string) map[string]any {
	d := map[string]any{"kind": e.Kind, "scope": e.Scope, "status": e.Status, "reason": reason,
		"expires_at": e.ExpiresAt.UTC().Format(time.RFC3339)}
	if e.Kind == KindVulnerability && e.AdvisoryID != nil {
		d["advisory_id"] = *e.AdvisoryID
	} else {
		d["rule_id"] = e.RuleID
	}
	if e.HostID != nil {
		d["host_id"] = e.HostID.String()
	}
	if e.GroupID != nil {
		d["group_id"] = e.GroupID.String()
	}
	return d
}

func publish(ctx context.Context, tx pgx.Tx, typ string, e dbq.ComplianceException) error {
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicScans, Type: typ, HostID: e.HostID,
		Permission: authz.PermExceptionRead, Data: map[string]any{
			"exception_id": e.ID, "kind": e.Kind, "rule_id": e.RuleID, "advisory_id": e.AdvisoryID, "scope": e.Scope, "host_id": e.HostID, "group_id": e.GroupID,
			"status": e.Status}})
	return err
}

// expiringKey is the dedup key of an exception's exception_expiring alert.
func expiringKey(id uuid.UUID) string { return AlertExpiring + ":" + id.String() }

// expiredKey is the dedup key of the exception_expired alert of a rule on a host.
func expiredKey(host uuid.UUID, ruleID string) string {
	return AlertExpired + ":" + host.String() + ":" + ruleID
}

// ExpireDue expires every open exception whose expiry has passed, audited as the system:
// an approved one's excepted results become fail again, each raising exception_expired
// on its host with the rule's severity, and its exception_expiring alert resolves. The
// periodic job calls it; it returns how many it expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	now := s.now()
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		due, err := q.ExceptionDue(ctx, now)
		if err != nil {
			return err
		}
		n = len(due)
		for _, e := range due {
			out, err := q.ExceptionDecide(ctx, dbq.ExceptionDecideParams{ID: e.ID, Status: StatusExpired, At: now,
				Reason: "expired"})
			if err != nil {
				return err
			}
			var restated []scan.Restated
			if e.Status == StatusApproved {
				if restated, err = s.restate(ctx, tx, out, now); err != nil {
					return err
				}
				if err := s.raiseExpired(ctx, tx, out, restated, now); err != nil {
					return err
				}
				if err := s.vulnAlerts(ctx, tx, out, now); err != nil {
					return err
				}
			}
			if _, err := alert.AutoResolveTx(ctx, tx, s.audit, expiringKey(e.ID), now); err != nil {
				return err
			}
			detail := s.detail(out, "The exception reached its expiry.")
			detail["from"], detail["hosts_restated"] = e.Status, len(restated)
			if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionExceptionExpired, "exception",
				e.ID.String(), detail)); err != nil {
				return err
			}
			if err := publish(ctx, tx, EventExpired, out); err != nil {
				return err
			}
		}
		return nil
	})
	return n, pg.Translate(err)
}

func (s *Service) raiseExpired(ctx context.Context, tx pgx.Tx, e dbq.ComplianceException, restated []scan.Restated, now time.Time) error {
	_, title := s.scans.RuleSeverityTitle(e.RuleID)
	for _, r := range restated {
		if r.Status != "fail" {
			continue
		}
		hostID, ruleID := r.HostID, r.RuleID
		if _, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: expiredKey(hostID, ruleID), AlertType: AlertExpired,
			Severity: r.Severity, HostID: &hostID, RuleID: &ruleID,
			Title: fmt.Sprintf("Exception expired: %s fails again", title), Body: e.Reason,
			Tags: map[string]any{"exception_id": e.ID, "scope": e.Scope}, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// RaiseExpiring raises one exception_expiring alert for each approved exception that
// comes within the expiring window of its expiry (once per exception; it resolves when
// the exception is revoked or expires). It returns how many it raised.
func (s *Service) RaiseExpiring(ctx context.Context) (int, error) {
	if s.window <= 0 {
		return 0, nil
	}
	now := s.now()
	var n int
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).ExceptionExpiringSoon(ctx, dbq.ExceptionExpiringSoonParams{At: now, Before: now.Add(s.window)})
		if err != nil {
			return err
		}
		n = len(rows)
		for _, e := range rows {
			severity, title := s.scans.RuleSeverityTitle(e.RuleID)
			ruleID := &e.RuleID
			if e.Kind == KindVulnerability && e.AdvisoryID != nil {
				adv, err := dbq.New(tx).ExceptionAdvisorySeverity(ctx, *e.AdvisoryID)
				if err != nil {
					return err
				}
				severity, title, ruleID = alertSeverity(adv), s.SubjectTitle(e), nil
			}
			if _, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: expiringKey(e.ID), AlertType: AlertExpiring,
				Severity: severity, HostID: e.HostID, RuleID: ruleID,
				Title: fmt.Sprintf("Exception for %s expires %s", title, e.ExpiresAt.UTC().Format(time.DateOnly)),
				Body:  e.Reason, Tags: map[string]any{"exception_id": e.ID, "kind": e.Kind, "scope": e.Scope, "expires_at": e.ExpiresAt},
				At: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, pg.Translate(err)
}

// alertSeverity maps an advisory's severity onto the alert severities (negligible is
// low; unknown is medium: not knowing is no reason to look away).
func alertSeverity(s string) string {
	switch s {
	case "critical", "high", "medium", "low":
		return s
	case "negligible":
		return "low"
	default:
		return "medium"
	}
}
