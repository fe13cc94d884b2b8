package change

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// Job is a job with its hosts' names and progress.
type Job struct {
	dbq.ChangeJob
	// HostNames are the display names of the job's hosts, sorted.
	HostNames []string
	// Counts are the job's hosts by status.
	Counts map[string]int
	// Failures are the failed hosts since the rollout started or was last resumed; Budget
	// is how many halt it.
	Failures, Budget int
	WaveSizes        []int
}

// Get returns a job of a kind. Guarded by the kind's read permission. Errors:
// resource.not_found.
func (s *Service) Get(ctx context.Context, kind string, id uuid.UUID) (Job, error) {
	j, err := s.q.ChangeJobGet(ctx, dbq.ChangeJobGetParams{ID: id, Kind: kind})
	if err != nil {
		return Job{}, notFound(err)
	}
	jobs, err := s.describe(ctx, s.q, []dbq.ChangeJob{j})
	if err != nil {
		return Job{}, err
	}
	return jobs[0], nil
}

// List returns a page of a kind's jobs, newest first.
func (s *Service) List(ctx context.Context, kind string, status *string, r cursor.Request[uuid.UUID]) (cursor.Page[Job], error) {
	rows, err := s.q.ChangeJobList(ctx, dbq.ChangeJobListParams{Kind: kind, Status: status, BeforeID: r.After, Lim: r.Fetch()})
	if err != nil {
		return cursor.Page[Job]{}, pg.Translate(err)
	}
	page := cursor.Cut(r, rows, func(j dbq.ChangeJob) uuid.UUID { return j.ID })
	jobs, err := s.describe(ctx, s.q, page.Items)
	return cursor.Page[Job]{Items: jobs, Next: page.Next}, err
}

func (s *Service) describe(ctx context.Context, q *dbq.Queries, rows []dbq.ChangeJob) ([]Job, error) {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	names, err := q.ChangeJobHostNames(ctx, ids)
	if err != nil {
		return nil, pg.Translate(err)
	}
	byJob := map[uuid.UUID][]string{}
	for _, n := range names {
		byJob[n.JobID] = append(byJob[n.JobID], n.HostName)
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		counts, failures, err := s.counts(ctx, q, r)
		if err != nil {
			return nil, err
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		out[i] = Job{ChangeJob: r, HostNames: nonNilS(byJob[r.ID]), Counts: counts, Failures: failures,
			Budget:    Budget(total, r.MaxFailures, r.MaxFailurePercent),
			WaveSizes: WaveSizes(total, int(r.Canary), int(deref32(r.CanaryPercent)), int(r.Growth))}
	}
	return out, nil
}

// counts returns a job's hosts by status and its failures since the budget was last reset.
func (s *Service) counts(ctx context.Context, q *dbq.Queries, j dbq.ChangeJob) (map[string]int, int, error) {
	rows, err := q.ChangeJobCounts(ctx, j.ID)
	if err != nil {
		return nil, 0, pg.Translate(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status] = int(r.N)
	}
	failed, err := q.ChangeJobFailures(ctx, j.ID)
	if err != nil {
		return nil, 0, pg.Translate(err)
	}
	return counts, max(0, int(failed)-int(j.FailureBase)), nil
}

// Hosts returns a job's hosts in wave order.
func (s *Service) Hosts(ctx context.Context, kind string, id uuid.UUID) ([]dbq.ChangeJobHost, error) {
	if _, err := s.q.ChangeJobGet(ctx, dbq.ChangeJobGetParams{ID: id, Kind: kind}); err != nil {
		return nil, notFound(err)
	}
	rows, err := s.q.ChangeJobHosts(ctx, id)
	return rows, pg.Translate(err)
}

// StepFilter narrows a job's steps.
type StepFilter struct {
	HostID *uuid.UUID
	Phase  *string
}

// Steps returns a page of a job's steps in the order they ran.
func (s *Service) Steps(ctx context.Context, kind string, id uuid.UUID, f StepFilter, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.ChangeStep], error) {
	if _, err := s.q.ChangeJobGet(ctx, dbq.ChangeJobGetParams{ID: id, Kind: kind}); err != nil {
		return cursor.Page[dbq.ChangeStep]{}, notFound(err)
	}
	rows, err := s.q.ChangeSteps(ctx, dbq.ChangeStepsParams{JobID: id, HostID: f.HostID, Phase: f.Phase, AfterID: r.After,
		Lim: r.Fetch()})
	if err != nil {
		return cursor.Page[dbq.ChangeStep]{}, pg.Translate(err)
	}
	return cursor.Cut(r, rows, func(st dbq.ChangeStep) uuid.UUID { return st.ID }), nil
}

func notFound(err error) error { return pg.NotFoundAs(err, errNotFound()) }

func errNotFound() error { return apperr.NotFound("The job does not exist.") }

// errState refuses an action the job's status does not allow.
func errState(j dbq.ChangeJob, action string) error {
	return apperr.Conflict(fmt.Sprintf("A job that is %s cannot be %s.", strings.ReplaceAll(j.Status, "_", " "), action)).
		WithDetail("state", j.Status).WithDetail("action", action)
}

// transition locks a job of kind, checks it may do action, and runs fn in the same
// transaction; it returns the job as described afterwards.
func (s *Service) transition(ctx context.Context, kind string, id uuid.UUID, action string, from []string,
	fn func(tx pgx.Tx, j dbq.ChangeJob) error) (Job, error) {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		j, err := dbq.New(tx).ChangeJobLock(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if j.Kind != kind {
			return errNotFound()
		}
		ok := false
		for _, f := range from {
			ok = ok || j.Status == f
		}
		if !ok {
			return errState(j, action)
		}
		return fn(tx, j)
	})
	if err != nil {
		return Job{}, pg.Translate(err)
	}
	return s.Get(ctx, kind, id)
}

// Decide approves or rejects a job waiting for approval, with a reason. Guarded by the
// kind's approve permission. Errors: validation_failed (reason); permission_denied with
// detail.reason four_eyes when the requester decides; resource.conflict with detail.state.
func (s *Service) Decide(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID, approve bool, reason string) (Job, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Job{}, apperr.Invalid("reason", "A reason is required.")
	}
	action, to, act := "approved", JobApproved, audit.ActionChangeJobApproved
	if !approve {
		action, to, act = "rejected", JobRejected, audit.ActionChangeJobRejected
	}
	return s.transition(ctx, kind, id, action, []string{JobPendingApproval}, func(tx pgx.Tx, j dbq.ChangeJob) error {
		a := actor.Actor()
		if j.RequestedBy != nil && a.UserID() != nil && *j.RequestedBy == *a.UserID() {
			return apperr.New(apperr.CodePermissionDenied, "You requested this change; another person must decide it.").
				WithDetail("reason", "four_eyes")
		}
		now := s.now()
		j, err := dbq.New(tx).ChangeJobDecide(ctx, dbq.ChangeJobDecideParams{ID: j.ID, Status: to, DecidedBy: a.UserID(),
			DecidedByName: strPtr(actorName(actor)), At: now, DecisionReason: &reason})
		if err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, act, "change_job", j.ID.String(),
			map[string]any{"kind": j.Kind, "name": j.Name, "reason": reason})); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, j, "change_job."+action, nil); err != nil {
			return err
		}
		if j.RequestedBy != nil {
			if err := feedTx(ctx, tx, j, "change_job."+action, fmt.Sprintf("Your %s was %s: %s", kindNoun(j.Kind), action, j.Name),
				reason, "", j.RequestedBy, now); err != nil {
				return err
			}
		}
		if approve && j.Kind == KindPatch {
			_, err = s.startTx(ctx, tx, actor, j, now)
		}
		return err
	})
}

// Execute starts an approved job. Guarded by the kind's execute permission. Errors:
// resource.conflict with detail.state.
func (s *Service) Execute(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID) (Job, error) {
	return s.transition(ctx, kind, id, "executed", []string{JobApproved}, func(tx pgx.Tx, j dbq.ChangeJob) error {
		_, err := s.startTx(ctx, tx, actor, j, s.now())
		return err
	})
}

// DryRun queues a dry run of a job not yet executed: every host is probed, planned and
// captured, and each action's preview recorded (phase dry_run); nothing changes and
// maintenance windows do not apply. Guarded by the kind's execute permission.
func (s *Service) DryRun(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID) (Job, error) {
	return s.transition(ctx, kind, id, "dry-run", []string{JobPendingApproval, JobApproved}, func(tx pgx.Tx, j dbq.ChangeJob) error {
		q := dbq.New(tx)
		now := s.now()
		if err := q.ChangeJobSetDryRun(ctx, dbq.ChangeJobSetDryRunParams{ID: j.ID, At: now}); err != nil {
			return err
		}
		hosts, err := q.ChangeJobHosts(ctx, j.ID)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if _, err := s.jobs.InsertTx(ctx, tx, HostArgs{JobID: j.ID, HostID: h.HostID, Op: opDryRun}, nil); err != nil {
				return fmt.Errorf("enqueue dry run: %w", err)
			}
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobDryRun, "change_job", j.ID.String(),
			map[string]any{"kind": j.Kind, "name": j.Name, "hosts": len(hosts)})); err != nil {
			return err
		}
		return s.publish(ctx, tx, j, "change_job.dry_run", nil)
	})
}

// Cancel stops a job before its next host: hosts being changed finish, the others are
// cancelled. Guarded by the kind's execute permission.
func (s *Service) Cancel(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID, reason string) (Job, error) {
	return s.transition(ctx, kind, id, "cancelled", []string{JobPendingApproval, JobApproved, JobRunning, JobHalted},
		func(tx pgx.Tx, j dbq.ChangeJob) error {
			q := dbq.New(tx)
			now := s.now()
			n, err := q.ChangeJobHostsCancelPending(ctx, dbq.ChangeJobHostsCancelPendingParams{JobID: j.ID, At: now})
			if err != nil {
				return err
			}
			j, err = q.ChangeJobSetStatus(ctx, dbq.ChangeJobSetStatusParams{ID: j.ID, Status: JobCancelled, At: now})
			if err != nil {
				return err
			}
			if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobCancelled, "change_job", j.ID.String(),
				map[string]any{"kind": j.Kind, "name": j.Name, "hosts_cancelled": n, "reason": strings.TrimSpace(reason)})); err != nil {
				return err
			}
			if _, err := alert.AutoResolveTx(ctx, tx, s.audit, haltedKey(j.ID), now); err != nil {
				return err
			}
			return s.publish(ctx, tx, j, "change_job.cancelled", nil)
		})
}

// Resume restarts a halted rollout: the failure budget counts again from now, and the
// hosts the halt held back are queued again. Guarded by the kind's execute permission.
func (s *Service) Resume(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID, reason string) (Job, error) {
	return s.transition(ctx, kind, id, "resumed", []string{JobHalted}, func(tx pgx.Tx, j dbq.ChangeJob) error {
		q := dbq.New(tx)
		_, failed, err := s.countsRaw(ctx, q, j)
		if err != nil {
			return err
		}
		j, err = q.ChangeJobResume(ctx, dbq.ChangeJobResumeParams{ID: j.ID, FailureBase: int32(failed), At: s.now()})
		if err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobResumed, "change_job", j.ID.String(),
			map[string]any{"kind": j.Kind, "name": j.Name, "failures_before": failed, "reason": strings.TrimSpace(reason)})); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, j, "change_job.resumed", nil); err != nil {
			return err
		}
		if _, err := alert.AutoResolveTx(ctx, tx, s.audit, haltedKey(j.ID), s.now()); err != nil {
			return err
		}
		return s.advanceTx(ctx, tx, j)
	})
}

// countsRaw returns a job's hosts by status and all its failed hosts.
func (s *Service) countsRaw(ctx context.Context, q *dbq.Queries, j dbq.ChangeJob) (map[string]int, int, error) {
	counts, failures, err := s.counts(ctx, q, j)
	return counts, failures + int(j.FailureBase), err
}

// Rollback restores every host a finished, halted or cancelled job changed, from the
// prior state captured before its change. Guarded by the kind's rollback permission.
func (s *Service) Rollback(ctx context.Context, actor *authz.Principal, kind string, id uuid.UUID, reason string) (Job, error) {
	return s.transition(ctx, kind, id, "rolled back", []string{JobCompleted, JobHalted, JobCancelled, JobFailed},
		func(tx pgx.Tx, j dbq.ChangeJob) error {
			q := dbq.New(tx)
			if active, err := q.ChangeJobActiveHosts(ctx, j.ID); err != nil {
				return err
			} else if active > 0 {
				return apperr.Conflict("Hosts of this job are still being changed; roll back once they are done.").
					WithDetail("state", j.Status).WithDetail("action", "rolled back")
			}
			hosts, err := q.ChangeJobRollbackHosts(ctx, j.ID)
			if err != nil {
				return err
			}
			now := s.now()
			status := JobRollingBack
			if len(hosts) == 0 {
				status = JobRolledBack
			}
			j, err = q.ChangeJobSetStatus(ctx, dbq.ChangeJobSetStatusParams{ID: j.ID, Status: status, At: now})
			if err != nil {
				return err
			}
			for _, h := range hosts {
				if _, err := s.jobs.InsertTx(ctx, tx, HostArgs{JobID: j.ID, HostID: h, Op: opRollback}, nil); err != nil {
					return fmt.Errorf("enqueue rollback: %w", err)
				}
			}
			if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeJobRollback, "change_job", j.ID.String(),
				map[string]any{"kind": j.Kind, "name": j.Name, "hosts": len(hosts), "reason": strings.TrimSpace(reason)})); err != nil {
				return err
			}
			if _, err := alert.AutoResolveTx(ctx, tx, s.audit, haltedKey(j.ID), now); err != nil {
				return err
			}
			return s.publish(ctx, tx, j, "change_job.rolling_back", map[string]any{"hosts": len(hosts)})
		})
}

// advanceTx moves a running job on after a host finished (or it was resumed), under the
// job's row lock: it halts the rollout when the failure budget is spent, starts the next
// wave when the current one is done, and finishes the job after the last.
func (s *Service) advanceTx(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob) error {
	q := dbq.New(tx)
	switch j.Status {
	case JobRunning:
		counts, failures, err := s.counts(ctx, q, j)
		if err != nil {
			return err
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		if budget := Budget(total, j.MaxFailures, j.MaxFailurePercent); failures >= budget {
			return s.haltTx(ctx, tx, j, failures, budget)
		}
		for wave := j.CurrentWave; wave < j.WaveCount; wave++ {
			open, err := q.ChangeJobWaveOpen(ctx, dbq.ChangeJobWaveOpenParams{JobID: j.ID, Wave: wave})
			if err != nil {
				return err
			}
			if open > 0 {
				// The first wave not done: queue what of it is pending (all of a new wave;
				// after a resume, the hosts the halt held back) and wait for it.
				return s.queueWave(ctx, tx, j, wave, opApply)
			}
		}
		status := JobCompleted
		if counts[HostSucceeded] == 0 && failures > 0 {
			status = JobFailed
		}
		return s.finishTx(ctx, tx, j, status)
	case JobRollingBack:
		left, err := q.ChangeJobRollbackHosts(ctx, j.ID)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			return nil
		}
		counts, _, err := s.counts(ctx, q, j)
		if err != nil {
			return err
		}
		status := JobRolledBack
		if counts[HostRollbackFailed] > 0 {
			status = JobFailed
		}
		return s.finishTx(ctx, tx, j, status)
	}
	return nil
}

func (s *Service) haltTx(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, failures, budget int) error {
	q := dbq.New(tx)
	reason := fmt.Sprintf("The failure budget is spent: %d of %d failed hosts allowed.", failures, budget)
	// Hosts queued but not started are held back; hosts being changed finish.
	if _, err := q.ChangeJobHostsHoldBack(ctx, j.ID); err != nil {
		return err
	}
	j, err := q.ChangeJobSetStatus(ctx, dbq.ChangeJobSetStatusParams{ID: j.ID, Status: JobHalted, At: s.now(), HaltReason: &reason})
	if err != nil {
		return err
	}
	if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionChangeJobHalted, "change_job", j.ID.String(),
		map[string]any{"kind": j.Kind, "name": j.Name, "failures": failures, "budget": budget, "wave": j.CurrentWave})); err != nil {
		return err
	}
	if _, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: haltedKey(j.ID), AlertType: AlertRolloutHalted, Severity: "high",
		Title: "Rollout halted: " + j.Name, Body: reason + " Resume it, or roll it back.",
		Tags: map[string]any{"job_id": j.ID.String(), "kind": j.Kind, "wave": j.CurrentWave}, At: s.now()}); err != nil {
		return err
	}
	if err := feedTx(ctx, tx, j, "change_job.halted", "Rollout halted: "+j.Name, reason, kindPerms[j.Kind].execute, nil, s.now()); err != nil {
		return err
	}
	return s.publish(ctx, tx, j, "change_job.halted", map[string]any{"reason": reason})
}

func (s *Service) finishTx(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, status string) error {
	q := dbq.New(tx)
	j, err := q.ChangeJobSetStatus(ctx, dbq.ChangeJobSetStatusParams{ID: j.ID, Status: status, At: s.now()})
	if err != nil {
		return err
	}
	if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionChangeJobFinished, "change_job", j.ID.String(),
		map[string]any{"kind": j.Kind, "name": j.Name, "status": status})); err != nil {
		return err
	}
	return s.publish(ctx, tx, j, "change_job.finished", nil)
}

func strPtr(s string) *string { return &s }

func kindNoun(kind string) string {
	if kind == KindRemediation {
		return "remediation request"
	}
	return "patch job"
}

// The alert types change jobs raise.
const (
	// AlertRolloutHalted: a rollout spent its failure budget (key per job; resolved when
	// the job is resumed, cancelled or rolled back).
	AlertRolloutHalted = "rollout_halted"
	// AlertRollbackFailed: a host could not be restored to its captured state (key per job
	// and host; critical).
	AlertRollbackFailed = "change_rollback_failed"
)

func haltedKey(job uuid.UUID) string { return AlertRolloutHalted + ":" + job.String() }
