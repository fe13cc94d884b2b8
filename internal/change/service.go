package change

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/scan"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/window"
)

// Session runs batches on one host over one SSH connection (hostssh.Conn).
type Session interface {
	RunBatch(ctx context.Context, cmds []sshx.Command, o sshx.BatchOptions) (sshx.BatchResult, error)
	SessionsOpened() int
	Close() error
}

// Connector opens a host's SSH connection.
type Connector interface {
	Connect(ctx context.Context, hostID uuid.UUID) (Session, error)
}

// ConnectFunc adapts a function to Connector.
type ConnectFunc func(ctx context.Context, hostID uuid.UUID) (Session, error)

// Connect calls f.
func (f ConnectFunc) Connect(ctx context.Context, hostID uuid.UUID) (Session, error) {
	return f(ctx, hostID)
}

// HealthCheck is one health check as the machinery runs it: one command of a batch and
// the judgement of its result.
type HealthCheck struct {
	ID       uuid.UUID
	Name     string
	Command  sshx.Command
	Evaluate func(sshx.Result) (ok bool, detail string)
}

// HealthSource resolves a job's health checks. An unknown or disabled id is a
// validation error naming health_check_ids.
type HealthSource interface {
	Checks(ctx context.Context, ids []uuid.UUID) ([]HealthCheck, error)
}

// Manual is a rule of a remediation that no declarative mechanism fixes: a person follows
// the guidance.
type Manual struct {
	RuleID    string `json:"rule_id"`
	Mechanism string `json:"mechanism"`
	Guidance  string `json:"guidance"`
}

// Planned is what a planner plans for one host.
type Planned struct {
	Actions []Action
	// RuleOf names, per action, the rule it remediates ("" for a patch).
	RuleOf []string
	Manual []Manual
}

// Planner turns a job's spec into actions for one host.
type Planner interface {
	// Probe returns commands run in the host's first session, before the actions are
	// planned (none: the actions need nothing from the host to be planned).
	Probe(job dbq.ChangeJob) []sshx.Command
	// Plan returns the host's actions, given the probe's results.
	Plan(ctx context.Context, job dbq.ChangeJob, host dbq.ChangeJobHost, probe sshx.BatchResult) (Planned, error)
}

// SpecValidator is a planner that checks a job's spec when the job is created.
type SpecValidator interface {
	ValidateSpec(spec []byte) error
}

// Rescanner queues a scan of some rules of a host, in tx, after a remediation changed it
// (scan.Service).
type Rescanner interface {
	RescanTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, ruleIDs []string, trigger string) (uuid.UUID, error)
}

// Enqueuer inserts River jobs in a transaction; *river.Client[pgx.Tx] implements it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options tune the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// WindowRecheck bounds how long a host waiting for its window sleeps before it looks
	// again (a window added, a job cancelled): default 15 minutes.
	WindowRecheck time.Duration
	// RebootWait bounds how long a rebooted host may take to come back (default 10 min).
	RebootWait time.Duration
	// StepTimeout bounds one SSH session of a host's change (an apply session may upgrade
	// many packages; default 30 min) instead of the SSH settings' command timeout.
	StepTimeout time.Duration
}

// Service creates, decides, runs and rolls back change jobs.
type Service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	audit    *audit.Writer
	jobs     Enqueuer
	ssh      Connector
	windows  *window.Service
	health   HealthSource
	planners map[string]Planner
	rescan   Rescanner
	// vulnExcepted tells the hosts an exception of an advisory covers (nil: none).
	vulnExcepted VulnExceptedFunc
	log          *slog.Logger
	now          func() time.Time
	opts         Options
}

// Deps are the collaborators of the service.
type Deps struct {
	Pool     *pgxpool.Pool
	Audit    *audit.Writer
	Jobs     Enqueuer
	SSH      Connector
	Windows  *window.Service
	Health   HealthSource
	Planners map[string]Planner
	Rescan   Rescanner
	// VulnExcepted tells which hosts a vulnerability exception covers, for patch jobs from
	// an advisory (nil: none is excepted).
	VulnExcepted VulnExceptedFunc
}

// NewService builds the service.
func NewService(d Deps, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WindowRecheck <= 0 {
		o.WindowRecheck = 15 * time.Minute
	}
	if o.RebootWait <= 0 {
		o.RebootWait = 10 * time.Minute
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 30 * time.Minute
	}
	return &Service{pool: d.Pool, q: dbq.New(d.Pool), audit: d.Audit, jobs: d.Jobs, ssh: d.SSH, windows: d.Windows,
		health: d.Health, planners: d.Planners, rescan: d.Rescan, vulnExcepted: d.VulnExcepted, log: o.Logger, now: o.Now, opts: o}
}

// RegisterJobs adds the host worker.
func (s *Service) RegisterJobs(workers *river.Workers) {
	river.AddWorker(workers, &hostWorker{svc: s})
}

// perms are the permissions guarding each kind's operations.
type perms struct{ read, request, approve, execute, rollback string }

var kindPerms = map[string]perms{
	KindPatch: {authz.PermPatchRead, authz.PermPatchRequest, authz.PermPatchApprove, authz.PermPatchExecute,
		authz.PermPatchRollback},
	KindRemediation: {authz.PermRemediationRead, authz.PermRemediationRequest, authz.PermRemediationApprove,
		authz.PermRemediationExecute, authz.PermRemediationRollback},
}

// Request describes a job to create.
type Request struct {
	Kind     string
	Name     string
	Selector scan.Selector
	// Spec is the kind's specification, stored as given (a patch.Spec; for a
	// remediation, {"rule_ids": [...]}).
	Spec    any
	RuleIDs []string
	// Plan is the rule-level plan of a remediation (stored for GET .../plan).
	Plan              any
	Canary            int
	CanaryPercent     *int32
	Growth            int
	MaxFailures       *int32
	MaxFailurePercent *int32
	HealthCheckIDs    []uuid.UUID
	Reboot            string
	IgnoreWindows     bool
	OverrideReason    string
	Reason            string
	// Advisories are the vulnerability advisories a patch job from an advisory fixes
	// (recorded in its audit event).
	Advisories []string
}

func (r *Request) normalise() error {
	r.Name = strings.TrimSpace(r.Name)
	if len(r.Name) > 256 {
		return apperr.Invalid("name", "A name has at most 256 characters.")
	}
	if r.Canary == 0 {
		r.Canary = 1
	}
	if r.Canary < 1 || r.Canary > 10000 {
		return apperr.Invalid("waves.canary", "The canary is 1 to 10000 hosts.")
	}
	if r.Growth == 0 {
		r.Growth = 2
	}
	if r.Growth < 1 || r.Growth > 10 {
		return apperr.Invalid("waves.growth", "Growth is 1 to 10.")
	}
	if r.Reboot == "" {
		r.Reboot = RebootNever
	}
	if !slices.Contains([]string{RebootNever, RebootIfRequired, RebootAlways}, r.Reboot) {
		return apperr.Invalid("reboot", "reboot is never, if_required or always.")
	}
	r.OverrideReason = strings.TrimSpace(r.OverrideReason)
	if r.IgnoreWindows && r.OverrideReason == "" {
		return apperr.Invalid("override_reason", "Say why the hosts' maintenance windows are overridden.")
	}
	if !r.IgnoreWindows && r.OverrideReason != "" {
		return apperr.Invalid("override_reason", "override_reason goes with ignore_windows: true.")
	}
	r.Reason = strings.TrimSpace(r.Reason)
	if len(r.Reason) > 2000 {
		return apperr.Invalid("reason", "A reason has at most 2000 characters.")
	}
	return nil
}

// Create creates a job: it resolves the hosts, orders them into waves and, unless it needs
// approval, starts it (a patch job) or leaves it approved for execution (a remediation).
// Guarded by patch:request or remediation:request; ignore_windows needs the kind's execute
// permission too. Errors: validation_failed naming the field; permission_denied.
func (s *Service) Create(ctx context.Context, actor *authz.Principal, r Request) (Job, error) {
	if err := r.normalise(); err != nil {
		return Job{}, err
	}
	kp := kindPerms[r.Kind]
	if s.planners[r.Kind] == nil {
		return Job{}, apperr.Invalid("kind", "This kind of change is not available on this server.")
	}
	if r.IgnoreWindows && !actor.Can(kp.execute) {
		return Job{}, apperr.New(apperr.CodePermissionDenied, "Overriding maintenance windows needs the "+kp.execute+" permission.").
			WithDetail("permission", kp.execute)
	}
	if err := r.Selector.Check(); err != nil {
		return Job{}, err
	}
	if len(r.HealthCheckIDs) > 0 {
		if _, err := s.health.Checks(ctx, r.HealthCheckIDs); err != nil {
			return Job{}, err
		}
	}
	spec, err := json.Marshal(r.Spec)
	if err != nil {
		return Job{}, fmt.Errorf("change: encode spec: %w", err)
	}
	if v, ok := s.planners[r.Kind].(SpecValidator); ok {
		if err := v.ValidateSpec(spec); err != nil {
			return Job{}, err
		}
	}
	sel, err := json.Marshal(r.Selector)
	if err != nil {
		return Job{}, fmt.Errorf("change: encode selector: %w", err)
	}
	plan := []byte("{}")
	if r.Plan != nil {
		if plan, err = json.Marshal(r.Plan); err != nil {
			return Job{}, fmt.Errorf("change: encode plan: %w", err)
		}
	}
	now := s.now()
	var out dbq.ChangeJob
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		targets, err := s.targets(ctx, q, r)
		if err != nil {
			return err
		}
		settings, err := q.ChangeSettingsGet(ctx)
		if err != nil {
			return err
		}
		approval := needsApproval(r.Kind, settings, targets)
		status := JobApproved
		if approval {
			status = JobPendingApproval
		}
		name := r.Name
		if name == "" {
			name = defaultName(r, len(targets))
		}
		sizes := WaveSizes(len(targets), r.Canary, int(deref32(r.CanaryPercent)), r.Growth)
		var override *string
		if r.IgnoreWindows {
			override = &r.OverrideReason
		}
		a := actor.Actor()
		out, err = q.ChangeJobInsert(ctx, dbq.ChangeJobInsertParams{ID: newID(), Kind: r.Kind, Name: name, Status: status,
			Spec: spec, Selector: sel, Plan: plan, Canary: int32(r.Canary), CanaryPercent: r.CanaryPercent,
			Growth: int32(r.Growth), WaveCount: int32(len(sizes)), MaxFailures: r.MaxFailures,
			MaxFailurePercent: r.MaxFailurePercent, HealthCheckIds: nonNil(r.HealthCheckIDs), Reboot: r.Reboot,
			IgnoreWindows: r.IgnoreWindows, OverrideReason: override, ApprovalRequired: approval, Reason: r.Reason,
			RequestedBy: a.UserID(), RequestedByName: actorName(actor), CreatedAt: now})
		if err != nil {
			return err
		}
		wave, pos := 0, 0
		for _, t := range targets {
			if pos == sizes[wave] {
				wave, pos = wave+1, 0
			}
			if err := q.ChangeJobHostInsert(ctx, dbq.ChangeJobHostInsertParams{JobID: out.ID, HostID: t.ID, HostName: t.Name,
				Environment: t.Environment, Wave: int32(wave), Position: int32(pos), RuleIds: nonNilS(t.Rules),
				Manual: []byte("[]")}); err != nil {
				return err
			}
			pos++
		}
		detail := map[string]any{"kind": out.Kind, "name": out.Name, "hosts": len(targets), "waves": sizes,
			"approval_required": approval, "selector": json.RawMessage(sel), "spec": json.RawMessage(spec)}
		if r.IgnoreWindows {
			detail["override_reason"] = r.OverrideReason
		}
		advisoryDetail(detail, r.Advisories)
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobRequested, "change_job", out.ID.String(), detail)); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, out, "change_job.requested", nil); err != nil {
			return err
		}
		if approval {
			if err := feedTx(ctx, tx, out, "change_job.approval_requested", "Approval needed: "+out.Name,
				fmt.Sprintf("%s asks to change %d host(s). %s", actorName(actor), len(targets), r.Reason), kp.approve, nil, now); err != nil {
				return err
			}
		}
		if status == JobApproved && out.Kind == KindPatch {
			out, err = s.startTx(ctx, tx, actor, out, now)
			return err
		}
		return nil
	})
	if err != nil {
		return Job{}, pg.Translate(err)
	}
	return s.Get(ctx, out.Kind, out.ID)
}

// target is a host of a new job.
type target struct {
	ID          uuid.UUID
	Name        string
	Environment string
	Rules       []string
}

// targets resolves a request's hosts; for a remediation, each with the requested rules it
// fails now (hosts failing none are left out).
func (s *Service) targets(ctx context.Context, q *dbq.Queries, r Request) ([]target, error) {
	rows, err := scan.SelectHosts(ctx, q, r.Selector)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, h := range rows {
		ids[i] = h.ID
	}
	if len(ids) == 0 {
		return nil, apperr.Invalid("selector", "No live host matches.")
	}
	if len(ids) > 10000 {
		return nil, apperr.Invalid("selector", "A job changes at most 10000 hosts.")
	}
	hosts, err := q.ChangeTargetHosts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]target, len(hosts))
	for i, h := range hosts {
		out[i] = target{ID: h.ID, Name: h.Name, Environment: h.Environment}
	}
	if r.Kind != KindRemediation {
		return out, nil
	}
	failing, err := q.ChangeFailingRules(ctx, dbq.ChangeFailingRulesParams{HostIds: ids, RuleIds: r.RuleIDs})
	if err != nil {
		return nil, err
	}
	rules := map[uuid.UUID][]string{}
	for _, f := range failing {
		rules[f.HostID] = append(rules[f.HostID], f.RuleID)
	}
	kept := out[:0]
	for _, t := range out {
		if t.Rules = rules[t.ID]; len(t.Rules) > 0 {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		return nil, apperr.Invalid("rule_ids", "None of these rules fails on the hosts named: there is nothing to remediate.")
	}
	return kept, nil
}

// needsApproval says whether a job waits for a second person: a remediation when the
// settings say so, a patch job when one of its hosts is in an environment listed ("*"
// lists every environment).
func needsApproval(kind string, st dbq.ChangeSetting, targets []target) bool {
	if kind == KindRemediation {
		return st.RemediationRequiresApproval
	}
	if slices.Contains(st.ApprovalEnvironments, "*") {
		return true
	}
	for _, t := range targets {
		if slices.Contains(st.ApprovalEnvironments, t.Environment) {
			return true
		}
	}
	return false
}

func defaultName(r Request, hosts int) string {
	noun := "hosts"
	if hosts == 1 {
		noun = "host"
	}
	if r.Kind == KindRemediation {
		return fmt.Sprintf("Remediate %d rule(s) on %d %s", len(r.RuleIDs), hosts, noun)
	}
	return fmt.Sprintf("Patch %d %s", hosts, noun)
}

// startTx moves an approved job to running and queues its first wave; with an override of
// the maintenance windows it records that in the audit trail too.
func (s *Service) startTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, j dbq.ChangeJob, now time.Time) (dbq.ChangeJob, error) {
	q := dbq.New(tx)
	j, err := q.ChangeJobSetStatus(ctx, dbq.ChangeJobSetStatusParams{ID: j.ID, Status: JobRunning, At: now})
	if err != nil {
		return j, err
	}
	if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobExecuted, "change_job", j.ID.String(),
		map[string]any{"kind": j.Kind, "name": j.Name})); err != nil {
		return j, err
	}
	if j.IgnoreWindows {
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobWindowOverride, "change_job", j.ID.String(),
			map[string]any{"kind": j.Kind, "name": j.Name, "override_reason": deref(j.OverrideReason)})); err != nil {
			return j, err
		}
	}
	if err := s.publish(ctx, tx, j, "change_job.started", nil); err != nil {
		return j, err
	}
	return j, s.queueWave(ctx, tx, j, 0, opApply)
}

// queueWave queues the pending hosts of a wave, each as its own River job.
func (s *Service) queueWave(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, wave int32, op string) error {
	q := dbq.New(tx)
	if _, err := q.ChangeJobSetWave(ctx, dbq.ChangeJobSetWaveParams{ID: j.ID, CurrentWave: wave, At: s.now()}); err != nil {
		return err
	}
	ids, err := q.ChangeJobHostsQueueWave(ctx, dbq.ChangeJobHostsQueueWaveParams{JobID: j.ID, Wave: wave})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.jobs.InsertTx(ctx, tx, HostArgs{JobID: j.ID, HostID: id, Op: op}, nil); err != nil {
			return fmt.Errorf("enqueue host change: %w", err)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return s.publish(ctx, tx, j, "change_job.wave_started", map[string]any{"wave": wave, "hosts": len(ids)})
}

// feedTx posts a job's item in the in-app feed: to everyone holding perm, or to one user.
func feedTx(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, kind, title, body, perm string, user *uuid.UUID, at time.Time) error {
	item := notify.FeedItem{Kind: kind, Title: title, Body: strings.TrimSpace(body), Link: Link(j), Permission: perm, UserID: user}
	if user != nil {
		item.Permission = ""
	}
	_, err := notify.FeedAddTx(ctx, tx, item, at)
	return err
}

// Link is the UI path of a job.
func Link(j dbq.ChangeJob) string {
	if j.Kind == KindRemediation {
		return "/remediation/" + j.ID.String()
	}
	return "/jobs/" + j.ID.String()
}

// publish sends a job event on the live stream (topic jobs), readable with the kind's
// read permission.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, typ string, extra map[string]any) error {
	data := map[string]any{"job_id": j.ID, "kind": j.Kind, "status": j.Status, "name": j.Name, "current_wave": j.CurrentWave}
	for k, v := range extra {
		data[k] = v
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicJobs, Type: typ,
		Permission: kindPerms[j.Kind].read, Data: data})
	return err
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func deref32(v *int32) int32 {
	if v == nil {
		return 0
	}
	return *v
}

func nonNil(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func actorName(p *authz.Principal) string {
	if p == nil {
		return "system"
	}
	return p.Username
}
