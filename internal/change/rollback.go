package change

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// rollbackHost restores one changed host of a job being rolled back.
func (s *Service) rollbackHost(ctx context.Context, jobID, hostID uuid.UUID) error {
	r := &hostRun{s: s}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		j, err := q.ChangeJobGetAny(ctx, jobID)
		if err != nil {
			return err
		}
		h, err := q.ChangeJobHostLock(ctx, dbq.ChangeJobHostLockParams{JobID: jobID, HostID: hostID})
		if err != nil {
			return err
		}
		r.job, r.host = j, h
		if j.Status != JobRollingBack || h.Status != HostSucceeded || h.Applied == 0 {
			return errSkip
		}
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	defer r.close()
	ok, detail := r.restore(ctx)
	status := HostRolledBack
	var msg *string
	if !ok {
		status, msg = HostRollbackFailed, strPtr("The rollback failed: "+detail)
	}
	r.close()
	ctx = context.WithoutCancel(ctx)
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		j, err := q.ChangeJobLock(ctx, jobID)
		if err != nil {
			return err
		}
		if err := q.ChangeJobHostAddSessions(ctx, dbq.ChangeJobHostAddSessionsParams{JobID: jobID, HostID: hostID,
			Sessions: int32(r.sessions)}); err != nil {
			return err
		}
		if err := q.ChangeJobHostRolledBack(ctx, dbq.ChangeJobHostRolledBackParams{JobID: jobID, HostID: hostID, Status: status,
			Error: msg, At: s.now()}); err != nil {
			return err
		}
		h, err := q.ChangeJobHostGet(ctx, dbq.ChangeJobHostGetParams{JobID: jobID, HostID: hostID})
		if err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionChangeHostRolledBack, "change_job", jobID.String(),
			map[string]any{"kind": j.Kind, "host_id": hostID.String(), "host": h.HostName, "status": status})); err != nil {
			return err
		}
		if err := s.publishHost(ctx, tx, j, h); err != nil {
			return err
		}
		if err := s.rescanTx(ctx, tx, h, true); err != nil {
			return err
		}
		if err := s.raiseRollbackFailed(ctx, tx, j, h); err != nil {
			return err
		}
		return s.advanceTx(ctx, tx, j)
	})
	return pg.Translate(err)
}

// dryRunHost plans and captures one host of a job and records what each action would
// change (phase dry_run); it changes nothing and ignores maintenance windows.
func (s *Service) dryRunHost(ctx context.Context, jobID, hostID uuid.UUID) error {
	r := &hostRun{s: s}
	j, err := s.q.ChangeJobGetAny(ctx, jobID)
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	h, err := s.q.ChangeJobHostGet(ctx, dbq.ChangeJobHostGetParams{JobID: jobID, HostID: hostID})
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	if j.Status != JobPendingApproval && j.Status != JobApproved {
		return nil
	}
	r.job, r.host = j, h
	defer r.close()
	fail := func(msg string) error {
		r.record(ctx, PhaseDryRun, "dry run", "", sshx.Result{Stderr: []byte(msg), ExitCode: 1}, false)
		return s.publishDryRun(ctx, r, false)
	}
	conn, err := s.ssh.Connect(ctx, hostID)
	if err != nil {
		return fail("Could not reach the host: " + err.Error())
	}
	r.conn = conn
	planner := s.planners[j.Kind]
	probe := planner.Probe(j)
	var br sshx.BatchResult
	if len(probe) > 0 {
		if br, err = r.batch(ctx, probe, sshx.BatchOptions{Privileged: true}); err != nil {
			return fail("The probe could not run: " + err.Error())
		}
		r.recordProbe(ctx, br, probe)
	}
	planned, err := planner.Plan(ctx, j, h, br)
	if err != nil {
		return fail("The change could not be planned: " + err.Error())
	}
	if br, err = r.batch(ctx, captureCommands(planned.Actions), sshx.BatchOptions{Privileged: true}); err != nil {
		return fail("The prior state could not be captured: " + err.Error())
	}
	prior, problem := r.recordCaptures(ctx, PhaseDryRun, planned.Actions, br)
	if problem != "" {
		return fail(problem)
	}
	if err := s.storeCapture(ctx, r, planned, prior); err != nil {
		return err
	}
	previews := make([]sshx.Command, len(planned.Actions))
	for i, a := range planned.Actions {
		previews[i] = sshx.Command{Name: fmt.Sprintf("preview-%d", i), Script: WithPrior(a.Preview, prior[i])}
	}
	if br, err = r.batch(ctx, previews, sshx.BatchOptions{Privileged: true}); err != nil {
		return fail("The preview could not run: " + err.Error())
	}
	ok := true
	for i, a := range planned.Actions {
		res, _ := br.Result(fmt.Sprintf("preview-%d", i))
		r.record(ctx, PhaseDryRun, "would "+a.Summary, a.Preview, res, res.OK())
		ok = ok && res.OK()
	}
	r.close()
	if err := s.q.ChangeJobHostAddSessions(ctx, dbq.ChangeJobHostAddSessionsParams{JobID: jobID, HostID: hostID,
		Sessions: int32(r.sessions)}); err != nil {
		return pg.Translate(err)
	}
	return s.publishDryRun(ctx, r, ok)
}

func (s *Service) publishDryRun(ctx context.Context, r *hostRun, ok bool) error {
	return pg.Translate(pg.WithTx(context.WithoutCancel(ctx), s.pool, func(tx pgx.Tx) error {
		return s.publish(ctx, tx, r.job, "change_job.dry_run_host", map[string]any{"host_id": r.host.HostID, "ok": ok})
	}))
}
