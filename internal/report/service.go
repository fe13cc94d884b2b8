package report

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/seal"
)

// DefaultRange is how far back an audit or patch history report starts without since.
const DefaultRange = 30 * 24 * time.Hour

// MaxAuditEvents is how many audit events an audit report holds at most (Options may
// lower it). A report is one signed canonical JSON document, stored whole and signed whole
// (Ed25519 signs the complete message), so it is held in memory while it is built and
// exported; its range is capped instead of streamed: a range holding more events is
// refused with a 400 naming the limit, and the events are read from the database in
// batches of auditBatch.
const MaxAuditEvents = 100_000

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Options tune the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Version is the OpenWatch version recorded in every report.
	Version string
	// Deliver sends a scheduled report through notification channels (nil: schedules
	// generate without delivering).
	Deliver DeliverFunc
	// ChannelCheck checks that a schedule's notification channels exist.
	ChannelCheck ChannelCheckFunc
	// Deliveries records scheduled deliveries with the other notification deliveries (nil:
	// they are sent without a record).
	Deliveries DeliveryLog
	// MaxAuditEvents caps the events of an audit report (zero: MaxAuditEvents).
	MaxAuditEvents int
}

// DeliveryLog records scheduled report deliveries with the notification deliveries;
// *notify.Service implements it.
type DeliveryLog interface {
	// RecordReportDeliveryTx records a pending delivery of a report through a channel, in
	// tx, and returns its id.
	RecordReportDeliveryTx(ctx context.Context, tx pgx.Tx, channelID, reportID uuid.UUID, title string) (uuid.UUID, error)
	// ReportDeliveryOutcome records one attempt's outcome (sendErr nil: delivered; last:
	// no attempt follows).
	ReportDeliveryOutcome(ctx context.Context, deliveryID uuid.UUID, sendErr error, last bool) error
}

// Service generates, signs, stores and exports reports, and runs their schedules.
type Service struct {
	pool    *pgxpool.Pool
	q       *dbq.Queries
	sealer  Sealer
	aw      *audit.Writer
	jobs    *river.Client[pgx.Tx]
	catalog *scan.Catalog
	log     *slog.Logger
	now     func() time.Time
	version string
	deliver DeliverFunc
	// channelCheck checks a schedule's channels.
	channelCheck ChannelCheckFunc
	deliveries   DeliveryLog
	maxEvents    int
}

// NewService returns the service. jobs inserts the generation jobs; catalog names the
// frameworks and rules.
func NewService(pool *pgxpool.Pool, sealer Sealer, aw *audit.Writer, jobs *river.Client[pgx.Tx], catalog *scan.Catalog, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.MaxAuditEvents <= 0 {
		o.MaxAuditEvents = MaxAuditEvents
	}
	return &Service{pool: pool, q: dbq.New(pool), sealer: sealer, aw: aw, jobs: jobs, catalog: catalog, log: o.Logger,
		now: o.Now, version: o.Version, deliver: o.Deliver, channelCheck: o.ChannelCheck, deliveries: o.Deliveries,
		maxEvents: o.MaxAuditEvents}
}

// ScopeInput is what a compliance or posture report covers.
type ScopeInput struct {
	Type string     `json:"type"`
	ID   *uuid.UUID `json:"id,omitempty"`
}

// Request asks for a report.
type Request struct {
	Kind       string
	Scope      ScopeInput
	Parameters Parameters
}

// Report is a report row.
type Report struct {
	dbq.Report
	Scope      ScopeInput
	Parameters Parameters
	Summary    map[string]any
}

func fromRow(r dbq.Report) (Report, error) {
	out := Report{Report: r, Summary: map[string]any{}}
	if err := json.Unmarshal(r.Scope, &out.Scope); err != nil {
		return out, fmt.Errorf("decode report scope: %w", err)
	}
	if err := json.Unmarshal(r.Parameters, &out.Parameters); err != nil {
		return out, fmt.Errorf("decode report parameters: %w", err)
	}
	if len(r.Summary) > 0 {
		if err := json.Unmarshal(r.Summary, &out.Summary); err != nil {
			return out, fmt.Errorf("decode report summary: %w", err)
		}
	}
	return out, nil
}

// needs is the permission that reads a kind's data.
var needs = map[string]string{
	KindCompliance:   authz.PermCompRead,
	KindPosture:      authz.PermCompRead,
	KindAudit:        authz.PermAuditRead,
	KindPatchHistory: authz.PermPatchRead,
	// A vulnerability report needs report:generate and vulnerability:read.
	KindVulnerability: authz.PermVulnRead,
}

// normalize checks a request and fills its defaults; it returns the title. Errors:
// validation_failed naming the field, resource.not_found for a group or host that does not
// exist, authz.permission_denied when actor may not read the kind's data.
func (s *Service) normalize(ctx context.Context, actor *authz.Principal, req *Request) (string, error) {
	perm, ok := needs[req.Kind]
	if !ok {
		return "", apperr.Invalid("kind", "kind must be compliance, posture, audit, patch_history or vulnerability.")
	}
	if actor != nil && !actor.Can(perm) {
		return "", apperr.New(apperr.CodePermissionDenied, fmt.Sprintf("A %s report needs the %s permission.", req.Kind, perm)).
			WithDetail("required_permission", perm)
	}
	if req.Scope.Type == "" {
		req.Scope.Type = ScopeFleet
	}
	p := &req.Parameters
	now := s.now().UTC()
	if p.MinSeverity != "" {
		if req.Kind != KindVulnerability {
			return "", apperr.Invalid("parameters.min_severity", "min_severity applies to vulnerability reports.")
		}
		if _, ok := severityRanks[p.MinSeverity]; !ok {
			return "", apperr.Invalid("parameters.min_severity", "min_severity must be critical, high, medium, low, negligible or unknown.")
		}
	}
	switch req.Kind {
	case KindCompliance, KindPosture, KindVulnerability:
		if p.Since != nil || p.Until != nil {
			return "", apperr.Invalid("parameters", "since and until apply to audit and patch_history reports.")
		}
		if p.Framework != "" {
			if _, ok := s.catalog.Framework(p.Framework); !ok {
				return "", apperr.Invalid("parameters.framework", fmt.Sprintf("Unknown framework %q; GET /reports/frameworks lists them.", p.Framework))
			}
		}
		if req.Kind == KindVulnerability && (p.Framework != "" || p.AsOf != nil) {
			return "", apperr.Invalid("parameters", "framework and as_of apply to compliance and posture reports.")
		}
		if req.Kind == KindCompliance && p.AsOf != nil {
			return "", apperr.Invalid("parameters.as_of", "as_of applies to posture reports; a compliance report is of now.")
		}
		if req.Kind == KindPosture {
			if p.AsOf == nil {
				return "", apperr.Invalid("parameters.as_of", "A posture report needs as_of, a past instant.")
			}
			at := p.AsOf.UTC().Truncate(time.Microsecond)
			p.AsOf = &at
			if at.After(now) {
				return "", apperr.Invalid("parameters.as_of", "as_of is in the future; a posture report is of a past instant.")
			}
			any, err := s.q.ReportAnyResultBy(ctx, at)
			if err != nil {
				return "", pg.Translate(err)
			}
			if !any {
				return "", apperr.Invalid("parameters.as_of", "as_of is before the first compliance result: there is no posture to report then.")
			}
		}
		switch req.Scope.Type {
		case ScopeFleet:
			if req.Scope.ID != nil {
				return "", apperr.Invalid("scope.id", "A fleet scope takes no id.")
			}
		case ScopeGroup, ScopeHost:
			if req.Scope.ID == nil {
				return "", apperr.Invalid("scope.id", "A group or host scope needs the id of the group or host.")
			}
			if _, err := s.scopeName(ctx, req.Scope); err != nil {
				return "", err
			}
		default:
			return "", apperr.Invalid("scope.type", "scope.type must be fleet, group or host.")
		}
	default:
		if req.Scope.Type != ScopeFleet || req.Scope.ID != nil {
			return "", apperr.Invalid("scope", "Audit and patch_history reports cover the whole installation: use the fleet scope.")
		}
		if p.Framework != "" || p.AsOf != nil {
			return "", apperr.Invalid("parameters", "framework and as_of apply to compliance and posture reports.")
		}
		until := now.Truncate(time.Microsecond)
		if p.Until != nil {
			until = p.Until.UTC().Truncate(time.Microsecond)
		}
		since := until.Add(-DefaultRange)
		if p.Since != nil {
			since = p.Since.UTC().Truncate(time.Microsecond)
		}
		if !since.Before(until) {
			return "", apperr.Invalid("parameters.since", "since must be before until.")
		}
		p.Since, p.Until = &since, &until
		if req.Kind == KindAudit {
			if err := s.checkAuditRange(ctx, since, until); err != nil {
				return "", err
			}
		}
	}
	return title(req.Kind), nil
}

func title(kind string) string {
	switch kind {
	case KindCompliance:
		return "Compliance report"
	case KindPosture:
		return "Posture as of report"
	case KindAudit:
		return "Audit trail report"
	case KindVulnerability:
		return "Vulnerability exposure report"
	default:
		return "Patch history report"
	}
}

// scopeName returns the name of a group or host scope ("" for the fleet).
func (s *Service) scopeName(ctx context.Context, sc ScopeInput) (string, error) {
	switch sc.Type {
	case ScopeGroup:
		name, err := s.q.ReportGroupName(ctx, *sc.ID)
		return name, pg.NotFoundAs(err, apperr.NotFound("The group does not exist."))
	case ScopeHost:
		name, err := s.q.ReportHostName(ctx, *sc.ID)
		return name, pg.NotFoundAs(err, apperr.NotFound("The host does not exist."))
	}
	return "", nil
}

// Generate queues a report and returns it queued. Guarded by report:generate plus the
// permission that reads the kind's data (compliance:read, audit:read, patch:read,
// vulnerability:read); audited. Errors: those of normalize.
func (s *Service) Generate(ctx context.Context, actor *authz.Principal, req Request) (Report, error) {
	var out Report
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.GenerateTx(ctx, tx, actor, req, nil, "", "")
		return err
	})
	return out, err
}

// GenerateTx is Generate inside tx. A schedule passes its id and name (actor nil: the
// system).
func (s *Service) GenerateTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, req Request, scheduleID *uuid.UUID, byID, byName string) (Report, error) {
	t, err := s.normalize(ctx, actor, &req)
	if err != nil {
		return Report{}, err
	}
	if actor != nil {
		byID, byName = actor.Actor().String(), actor.Username
	}
	scope, _ := json.Marshal(req.Scope)
	params, _ := json.Marshal(req.Parameters)
	q := s.q.WithTx(tx)
	row, err := q.ReportInsert(ctx, dbq.ReportInsertParams{ID: uuid.Must(uuid.NewV7()), Kind: req.Kind, Title: t, Scope: scope,
		Parameters: params, RequestedBy: byID, RequestedByName: byName, ScheduleID: scheduleID, CreatedAt: s.now()})
	if err != nil {
		return Report{}, pg.Translate(err)
	}
	if _, err := s.jobs.InsertTx(ctx, tx, GenerateArgs{ReportID: row.ID}, nil); err != nil {
		return Report{}, fmt.Errorf("queue report generation: %w", err)
	}
	detail := map[string]any{"kind": req.Kind, "scope": req.Scope, "parameters": req.Parameters}
	if scheduleID != nil {
		detail["schedule_id"] = scheduleID.String()
	}
	if err := s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionReportGenerated, "report", row.ID.String(), detail)); err != nil {
		return Report{}, err
	}
	return fromRow(row)
}

// Get returns a report. Guarded by report:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Report, error) {
	row, err := s.q.ReportGet(ctx, id)
	if err != nil {
		return Report{}, pg.NotFoundAs(err, apperr.NotFound("The report does not exist."))
	}
	return fromRow(row)
}

// List pages reports newest first, of a kind and a status when given. Guarded by
// report:read.
func (s *Service) List(ctx context.Context, kind, status *string, page cursor.Request[uuid.UUID]) (cursor.Page[Report], error) {
	rows, err := s.q.ReportList(ctx, dbq.ReportListParams{Kind: kind, Status: status, BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Report]{}, pg.Translate(err)
	}
	out := make([]Report, len(rows))
	for i, r := range rows {
		if out[i], err = fromRow(r); err != nil {
			return cursor.Page[Report]{}, err
		}
	}
	return cursor.Cut(page, out, func(r Report) uuid.UUID { return r.ID }), nil
}

// ExportFile renders a completed report in format, signed by the key that signed it, or
// a compliance or posture report as an OSCAL document (oscal, oscal-plan) that names the
// signed JSON export by its SHA-256. Guarded by report:read. Errors: resource.not_found,
// validation_failed naming format (also for an OSCAL export of another kind of report),
// resource.conflict while the report is not completed.
func (s *Service) ExportFile(ctx context.Context, id uuid.UUID, format string) ([]byte, error) {
	switch format {
	case FormatJSON, FormatCSV, FormatPDF, FormatOSCAL, FormatOSCALPlan:
	default:
		return nil, apperr.Invalid("format", "format must be json, csv, pdf, oscal or oscal-plan.")
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != StatusCompleted || r.Content == nil || r.SigningKeyID == nil {
		return nil, apperr.Conflict("The report is not completed yet.").WithDetail("status", r.Status)
	}
	sg, err := s.signerByKeyID(ctx, *r.SigningKeyID)
	if err != nil {
		return nil, err
	}
	if format == FormatOSCAL || format == FormatOSCALPlan {
		if r.Kind != KindCompliance && r.Kind != KindPosture {
			return nil, apperr.Invalid("format", fmt.Sprintf("OSCAL exports compliance and posture reports, not %s reports.", r.Kind))
		}
		signed, err := Export([]byte(*r.Content), FormatJSON, sg)
		if err != nil {
			return nil, err
		}
		return exportOSCAL(ctx, []byte(*r.Content), signed, format, sg, s.catalog)
	}
	return Export([]byte(*r.Content), format, sg)
}

// Framework is a framework or benchmark a compliance report can be scoped to.
type Framework struct {
	ID, Name, Family, Benchmark string
	Rules                       int
}

// Frameworks lists the frameworks of the rule catalog. Guarded by report:read.
func (s *Service) Frameworks() []Framework {
	fs := s.catalog.Frameworks()
	out := make([]Framework, len(fs))
	for i, f := range fs {
		out[i] = Framework{ID: f.ID, Name: f.Name, Family: f.Family, Benchmark: f.Benchmark, Rules: len(f.Rules)}
	}
	return out
}

// errTooManyEvents is the refusal of an audit range holding more than limit events.
func errTooManyEvents(limit int) error {
	return apperr.Invalid("parameters.since", fmt.Sprintf("The range holds more than %d audit events, the most an audit report holds: "+
		"narrow since and until, and generate several reports.", limit)).WithDetail("max_events", limit)
}

// checkAuditRange refuses an audit report whose range holds more than the service's
// limit of events (counted up to one past the limit, never further).
func (s *Service) checkAuditRange(ctx context.Context, since, until time.Time) error {
	n, err := s.q.ReportAuditEventCount(ctx, dbq.ReportAuditEventCountParams{Since: since, Until: until, UpTo: int32(s.maxEvents + 1)})
	if err != nil {
		return pg.Translate(err)
	}
	if n > int64(s.maxEvents) {
		return errTooManyEvents(s.maxEvents)
	}
	return nil
}
