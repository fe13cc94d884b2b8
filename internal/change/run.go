package change

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// The operations a host job performs.
const (
	opApply    = "apply"
	opRollback = "rollback"
	opDryRun   = "dry_run"
)

// HostJobKind is the River kind of a host's change.
const HostJobKind = "change_host"

// HostArgs is the River job changing (or rolling back, or dry-running) one host of a job.
type HostArgs struct {
	JobID  uuid.UUID `json:"job_id"`
	HostID uuid.UUID `json:"host_id"`
	Op     string    `json:"op"`
}

// Kind names the job kind.
func (HostArgs) Kind() string { return HostJobKind }

// InsertOpts: a host job interrupted (a crash, a database error) runs again; the host row's
// status tells it where the change stopped.
func (HostArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type hostWorker struct {
	river.WorkerDefaults[HostArgs]
	svc *Service
}

// Timeout bounds one host's change, reboot included.
func (w *hostWorker) Timeout(*river.Job[HostArgs]) time.Duration { return time.Hour }

func (w *hostWorker) Work(ctx context.Context, job *river.Job[HostArgs]) error {
	a := job.Args
	switch a.Op {
	case opApply:
		return w.svc.applyHost(ctx, a.JobID, a.HostID, job.ID)
	case opRollback:
		return w.svc.rollbackHost(ctx, a.JobID, a.HostID)
	case opDryRun:
		return w.svc.dryRunHost(ctx, a.JobID, a.HostID)
	}
	return fmt.Errorf("change: unknown host operation %q", a.Op)
}

// Output bounds of a recorded step.
const (
	maxStepOutput  = 16 << 10
	maxStepCommand = 32 << 10
)

// errSkip ends a host job that has nothing (more) to do.
var errSkip = errors.New("nothing to do")

// exitNotRun is the exit status of an apply command skipped because one before it failed.
const exitNotRun = 125

// hostRun is one host's change in progress.
type hostRun struct {
	s    *Service
	job  dbq.ChangeJob
	host dbq.ChangeJobHost
	conn Session
	// sessions counts the SSH sessions of connections already closed (a reboot).
	sessions int
	rebooted bool
	// spans are the start and end of each command of the last batch, by name.
	spans map[string][2]time.Time
}

// applyHost changes one host of a running job.
func (s *Service) applyHost(ctx context.Context, jobID, hostID uuid.UUID, riverJob int64) error {
	r := &hostRun{s: s}
	var snooze time.Duration
	recovering := false
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		j, err := q.ChangeJobLock(ctx, jobID)
		if err != nil {
			return err
		}
		h, err := q.ChangeJobHostLock(ctx, dbq.ChangeJobHostLockParams{JobID: jobID, HostID: hostID})
		if err != nil {
			return err
		}
		r.job, r.host = j, h
		switch h.Status {
		case HostQueued, HostWaitingWindow:
		case HostRunning:
			// An earlier attempt of this job died while changing the host: restore what it
			// applied. Another job for the same host (a duplicate) leaves it alone.
			if h.RiverJobID == nil || *h.RiverJobID != riverJob {
				return errSkip
			}
			recovering = true
			return nil
		default:
			return errSkip
		}
		if j.Status != JobRunning {
			if j.Status == JobCancelled {
				_, err = s.setHost(ctx, tx, r, HostCancelled, nil, "")
				if err != nil {
					return err
				}
			}
			return errSkip
		}
		if !j.IgnoreWindows {
			now := s.now()
			_, open, err := s.windows.OpenForHostTx(ctx, tx, hostID, now)
			if err != nil {
				return err
			}
			if !open {
				next := s.nextOpening(ctx, hostID)
				snooze = s.opts.WindowRecheck
				if next != nil && next.Sub(now) < snooze {
					snooze = max(time.Second, next.Sub(now))
				}
				if h.Status != HostWaitingWindow || !sameTime(h.NextWindowAt, next) {
					if _, err := s.setHostFull(ctx, tx, r, HostWaitingWindow, nil, "", next); err != nil {
						return err
					}
				}
				return nil
			}
		}
		if err := q.ChangeJobHostClaim(ctx, dbq.ChangeJobHostClaimParams{JobID: jobID, HostID: hostID, RiverJobID: &riverJob}); err != nil {
			return err
		}
		_, err = s.setHost(ctx, tx, r, HostRunning, strPtr(PhasePrecheck), "")
		return err
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	if err != nil {
		return pg.IgnoreNotFound(err) // a job or host deleted meanwhile has nothing to do
	}
	if snooze > 0 {
		return river.JobSnooze(snooze)
	}
	defer r.close()
	if recovering {
		return r.finish(ctx, r.rollbackFailed(ctx, "The worker stopped while changing the host; what it applied was restored."))
	}
	return r.finish(ctx, r.change(ctx))
}

// outcome is how a host's change ended.
type outcome struct {
	status string
	err    string
}

// change runs the phases of a host's change and returns how it ended.
func (r *hostRun) change(ctx context.Context) outcome {
	s := r.s
	conn, err := s.ssh.Connect(ctx, r.host.HostID)
	if err != nil {
		return outcome{HostFailed, "Could not reach the host; nothing was changed: " + err.Error()}
	}
	r.conn = conn
	checks, err := s.checks(ctx, r.job)
	if err != nil {
		return outcome{HostFailed, "The job's health checks could not be loaded; nothing was changed: " + err.Error()}
	}
	planner := s.planners[r.job.Kind]
	probe := planner.Probe(r.job)
	var planned Planned
	var captures []sshx.Command
	if len(probe) == 0 {
		if planned, err = planner.Plan(ctx, r.job, r.host, sshx.BatchResult{}); err != nil {
			return outcome{HostFailed, "The change could not be planned; nothing was changed: " + err.Error()}
		}
		captures = captureCommands(planned.Actions)
	}
	first := append(checkCommands(checks), probe...)
	first = append(first, captures...)
	br, err := r.batch(ctx, first, sshx.BatchOptions{Privileged: true})
	if err != nil {
		return outcome{HostFailed, "The pre-checks could not run; nothing was changed: " + err.Error()}
	}
	if failed := r.recordChecks(ctx, PhasePrecheck, checks, br); failed != "" {
		return outcome{HostFailed, "Pre-check " + failed + " failed before any change; the host was left as it was."}
	}
	if len(probe) > 0 {
		r.recordProbe(ctx, br, probe)
		if planned, err = planner.Plan(ctx, r.job, r.host, br); err != nil {
			return outcome{HostFailed, "The change could not be planned; nothing was changed: " + err.Error()}
		}
		captures = captureCommands(planned.Actions)
		if br, err = r.batch(ctx, captures, sshx.BatchOptions{Privileged: true}); err != nil {
			return outcome{HostFailed, "The prior state could not be captured; nothing was changed: " + err.Error()}
		}
	}
	prior, problem := r.recordCaptures(ctx, PhaseCapture, planned.Actions, br)
	if problem != "" {
		return outcome{HostFailed, problem + " Nothing was changed."}
	}
	if err := s.storeCapture(ctx, r, planned, prior); err != nil {
		return outcome{HostFailed, "The prior state could not be stored; nothing was changed: " + err.Error()}
	}
	if len(planned.Actions) == 0 {
		if len(planned.Manual) > 0 {
			return outcome{HostSkipped, fmt.Sprintf("Nothing to change automatically: %d rule(s) need a person (see the guidance).", len(planned.Manual))}
		}
		return outcome{HostSucceeded, ""}
	}
	s.setPhase(ctx, r, PhaseApply)
	// Without a reboot the post-checks ride in the apply session: they read, and their
	// results count only when every action applied.
	var post []sshx.Command
	if r.job.Reboot == RebootNever {
		post = checkCommands(checks)
	}
	applied, failure, br := r.apply(ctx, planned.Actions, post)
	if err := s.q.ChangeJobHostApplied(ctx, dbq.ChangeJobHostAppliedParams{JobID: r.job.ID, HostID: r.host.HostID, Applied: int32(applied)}); err != nil {
		s.log.WarnContext(ctx, "store applied count", "error", err)
	}
	r.host.Applied = int32(applied)
	if failure != "" {
		return r.rollbackFailed(ctx, failure)
	}
	if reboot, why := r.needsReboot(ctx, planned.Actions); reboot {
		s.setPhase(ctx, r, PhaseReboot)
		if err := r.reboot(ctx, why); err != nil {
			return r.rollbackFailed(ctx, "The host did not come back from its reboot: "+err.Error())
		}
	}
	if len(checks) > 0 {
		s.setPhase(ctx, r, PhasePostcheck)
		if len(post) == 0 {
			if br, err = r.batch(ctx, checkCommands(checks), sshx.BatchOptions{Privileged: true}); err != nil {
				return r.rollbackFailed(ctx, "The post-checks could not run: "+err.Error())
			}
		}
		if failed := r.recordChecks(ctx, PhasePostcheck, checks, br); failed != "" {
			return r.rollbackFailed(ctx, "Post-check "+failed+" failed after the change.")
		}
	}
	return outcome{HostSucceeded, ""}
}

// rollbackFailed restores the host after a failed change and returns the outcome: the
// host failed and was rolled back (or its rollback failed too).
func (r *hostRun) rollbackFailed(ctx context.Context, why string) outcome {
	ok, detail := r.restore(ctx)
	if !ok {
		return outcome{HostRollbackFailed, why + " Restoring the prior state failed too: " + detail}
	}
	return outcome{HostRolledBack, why + " The prior state was restored." + detail}
}

// restore puts back the captured state of the applied actions, last first, then runs the
// health checks again (phase verify). It reports whether every restore succeeded.
func (r *hostRun) restore(ctx context.Context) (bool, string) {
	s := r.s
	s.setPhase(ctx, r, PhaseRollback)
	var actions []Action
	var prior []string
	if err := json.Unmarshal(r.host.Actions, &actions); err != nil {
		return false, "the stored actions are unreadable: " + err.Error()
	}
	if err := json.Unmarshal(r.host.Prior, &prior); err != nil || len(prior) != len(actions) {
		return false, "the stored prior state is unreadable"
	}
	n := min(int(r.host.Applied), len(actions))
	if n == 0 {
		return true, ""
	}
	if r.conn == nil {
		conn, err := s.ssh.Connect(ctx, r.host.HostID)
		if err != nil {
			return false, "could not reach the host: " + err.Error()
		}
		r.conn = conn
	}
	cmds := make([]sshx.Command, 0, n)
	idx := make([]int, 0, n)
	for i := n - 1; i >= 0; i-- {
		cmds = append(cmds, sshx.Command{Name: fmt.Sprintf("restore-%d", i), Script: WithPrior(actions[i].Restore, prior[i])})
		idx = append(idx, i)
	}
	// The health checks ride in the same session, after the restores.
	checks, cerr := s.checks(ctx, r.job)
	br, err := r.batch(ctx, append(cmds, checkCommands(checks)...), sshx.BatchOptions{Privileged: true})
	if err != nil {
		return false, err.Error()
	}
	ok := true
	var failed []string
	for k, res := range br.Results[:min(len(cmds), len(br.Results))] {
		a := actions[idx[k]]
		r.record(ctx, PhaseRollback, "restore: "+a.Summary, a.Restore, res, res.OK())
		if !res.OK() {
			ok = false
			failed = append(failed, a.Target)
		}
	}
	if !ok {
		return false, "could not restore " + strings.Join(failed, ", ")
	}
	if cerr != nil || len(checks) == 0 {
		return true, ""
	}
	if failed := r.recordChecks(ctx, PhaseVerify, checks, br); failed != "" {
		return true, " Health check " + failed + " still fails after the restore."
	}
	return true, " The health checks pass again."
}

// apply runs the actions in order in one session, then the commands after (post-checks);
// the first failure stops the later actions. It returns how many actions ran (the failed
// one included), the failure, if any, and the session's results.
func (r *hostRun) apply(ctx context.Context, actions []Action, after []sshx.Command) (int, string, sshx.BatchResult) {
	cmds := make([]sshx.Command, 0, len(actions)+1+len(after))
	for i, a := range actions {
		cmds = append(cmds, sshx.Command{Name: fmt.Sprintf("apply-%d", i), Script: guarded(a.Apply)})
	}
	cmds = append(cmds, sshx.Command{Name: "cleanup", Script: `rm -f "$OW_STOP"`})
	cmds = append(cmds, after...)
	prelude := `OW_STOP=$(mktemp -u "${TMPDIR:-/tmp}/openwatch-stop.XXXXXXXX")`
	br, err := r.batch(ctx, cmds, sshx.BatchOptions{Privileged: true, Prelude: prelude})
	ran := 0
	for i, res := range br.Results {
		if i >= len(actions) || res.ExitCode == exitNotRun {
			break
		}
		ran = i + 1
		r.record(ctx, PhaseApply, "apply: "+actions[i].Summary, actions[i].Apply, res, res.OK())
		if !res.OK() {
			return ran, fmt.Sprintf("Applying %q failed (exit status %d).", actions[i].Summary, res.ExitCode), br
		}
	}
	if err != nil {
		// The session broke: whatever may have started counts as applied.
		return len(actions), "The change was interrupted: " + err.Error(), br
	}
	return ran, "", br
}

// guarded wraps an apply script so it does not run after an earlier one failed, and marks
// the failure for the ones after it.
func guarded(script string) string {
	return fmt.Sprintf("[ -e \"$OW_STOP\" ] && exit %d\n(\n%s\n)\now_rc=$?\n[ $ow_rc -ne 0 ] && : > \"$OW_STOP\"\nexit $ow_rc", exitNotRun, script)
}

// needsReboot applies the job's reboot policy.
func (r *hostRun) needsReboot(ctx context.Context, actions []Action) (bool, string) {
	switch r.job.Reboot {
	case RebootAlways:
		return true, "the job's reboot policy is always"
	case RebootIfRequired:
		for _, a := range actions {
			if a.Reboot {
				return true, a.Summary + " takes effect after a reboot"
			}
		}
		br, err := r.batch(ctx, []sshx.Command{rebootRequiredCommand}, sshx.BatchOptions{Privileged: true})
		if err == nil && len(br.Results) == 1 {
			res := br.Results[0]
			r.record(ctx, PhaseReboot, "is a reboot required", rebootRequiredCommand.Script, res, true)
			if strings.TrimSpace(string(res.Stdout)) == "yes" {
				return true, "the host says a reboot is required"
			}
		}
	}
	return false, ""
}

// rebootRequiredCommand prints yes when the host asks for a reboot (Debian's flag file, or
// needs-restarting -r on RHEL), else no.
var rebootRequiredCommand = sshx.Command{Name: "reboot-required", Script: `if [ -e /var/run/reboot-required ]; then echo yes
elif command -v needs-restarting >/dev/null 2>&1; then needs-restarting -r >/dev/null 2>&1 && echo no || echo yes
else echo no; fi`}

// bootIDCommand prints the kernel's boot id, which changes with every boot.
var bootIDCommand = sshx.Command{Name: "boot-id", Script: `cat /proc/sys/kernel/random/boot_id`}

// reboot restarts the host and waits until it answers with a new boot id.
func (r *hostRun) reboot(ctx context.Context, why string) error {
	s := r.s
	br, err := r.batch(ctx, []sshx.Command{bootIDCommand}, sshx.BatchOptions{})
	if err != nil || len(br.Results) != 1 {
		return fmt.Errorf("read the boot id: %w", err)
	}
	before := strings.TrimSpace(string(br.Results[0].Stdout))
	cmd := sshx.Command{Name: "reboot", Script: `(sleep 2; systemctl reboot || shutdown -r now || reboot) >/dev/null 2>&1 </dev/null &
echo rebooting`}
	br, err = r.batch(ctx, []sshx.Command{cmd}, sshx.BatchOptions{Privileged: true})
	started := s.now()
	if err == nil && len(br.Results) == 1 {
		r.record(ctx, PhaseReboot, "reboot: "+why, cmd.Script, br.Results[0], br.Results[0].OK())
	}
	r.rebooted = true
	r.close()
	deadline := time.Now().Add(s.opts.RebootWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
		conn, err := s.ssh.Connect(ctx, r.host.HostID)
		if err != nil {
			continue
		}
		r.conn = conn
		br, err := r.batch(ctx, []sshx.Command{bootIDCommand}, sshx.BatchOptions{})
		if err != nil || len(br.Results) != 1 {
			r.close()
			continue
		}
		after := strings.TrimSpace(string(br.Results[0].Stdout))
		if after != before {
			res := sshx.Result{Name: "boot-id", Stdout: []byte(fmt.Sprintf("boot id %s → %s after %s", before, after,
				s.now().Sub(started).Round(time.Second)))}
			r.record(ctx, PhaseReboot, "host back", bootIDCommand.Script, res, true)
			return nil
		}
		r.close()
	}
	return fmt.Errorf("no new boot within %s", s.opts.RebootWait)
}

// batch runs commands in one session of the host's connection.
func (r *hostRun) batch(ctx context.Context, cmds []sshx.Command, o sshx.BatchOptions) (sshx.BatchResult, error) {
	if len(cmds) == 0 {
		return sshx.BatchResult{}, nil
	}
	if r.conn == nil {
		return sshx.BatchResult{}, errors.New("not connected")
	}
	if o.Timeout == 0 {
		o.Timeout = r.s.opts.StepTimeout
	}
	// Each command's span: from the end of the one before (or the session's start) to its
	// own end, as the session reports them.
	start := r.s.now()
	ends := make([]time.Time, len(cmds))
	var mu sync.Mutex
	o.OnDone = func(i int) {
		mu.Lock()
		ends[i] = r.s.now()
		mu.Unlock()
	}
	br, err := r.conn.RunBatch(ctx, cmds, o)
	mu.Lock()
	defer mu.Unlock()
	r.spans = make(map[string][2]time.Time, len(cmds))
	prev := start
	for i, c := range cmds {
		end := ends[i]
		if end.IsZero() {
			end = r.s.now()
		}
		r.spans[c.Name] = [2]time.Time{prev, end}
		prev = end
	}
	return br, err
}

func (r *hostRun) close() {
	if r.conn != nil {
		r.sessions += r.conn.SessionsOpened()
		_ = r.conn.Close()
		r.conn = nil
	}
}

// checks loads a job's health checks.
func (s *Service) checks(ctx context.Context, j dbq.ChangeJob) ([]HealthCheck, error) {
	if len(j.HealthCheckIds) == 0 || s.health == nil {
		return nil, nil
	}
	return s.health.Checks(ctx, j.HealthCheckIds)
}

func checkCommands(checks []HealthCheck) []sshx.Command {
	out := make([]sshx.Command, len(checks))
	for i, c := range checks {
		out[i] = c.Command
		out[i].Name = "check-" + c.ID.String()
	}
	return out
}

func captureCommands(actions []Action) []sshx.Command {
	out := make([]sshx.Command, len(actions))
	for i, a := range actions {
		out[i] = sshx.Command{Name: fmt.Sprintf("capture-%d", i), Script: a.Capture}
	}
	return out
}

// recordChecks records the health checks' results and returns the name of the first that
// failed ("" when all passed).
func (r *hostRun) recordChecks(ctx context.Context, phase string, checks []HealthCheck, br sshx.BatchResult) string {
	failed := ""
	for _, c := range checks {
		res, found := br.Result("check-" + c.ID.String())
		ok, detail := false, "the check did not run"
		if found {
			ok, detail = c.Evaluate(res)
		}
		if detail != "" {
			res.Stderr = append(res.Stderr, []byte("\n"+detail)...)
		}
		r.record(ctx, phase, "health check: "+c.Name, c.Command.Script, res, ok)
		if !ok && failed == "" {
			failed = fmt.Sprintf("%q (%s)", c.Name, detail)
		}
	}
	return failed
}

func (r *hostRun) recordProbe(ctx context.Context, br sshx.BatchResult, probe []sshx.Command) {
	for _, p := range probe {
		res, _ := br.Result(p.Name)
		r.record(ctx, PhaseCapture, "probe: "+p.Name, p.Script, res, res.OK())
	}
}

// recordCaptures records the captures and returns the prior states, or why they cannot be
// used.
func (r *hostRun) recordCaptures(ctx context.Context, phase string, actions []Action, br sshx.BatchResult) ([]string, string) {
	prior := make([]string, len(actions))
	for i, a := range actions {
		res, found := br.Result(fmt.Sprintf("capture-%d", i))
		ok := found && res.OK() && len(res.Stdout) <= MaxPriorBytes && utf8.Valid(res.Stdout)
		shown := res
		if len(shown.Stdout) > maxStepOutput {
			shown.Stdout = shown.Stdout[:maxStepOutput]
		}
		r.record(ctx, phase, "capture: "+a.Summary, a.Capture, shown, ok)
		switch {
		case !found:
			return nil, fmt.Sprintf("The prior state of %s was not captured.", a.Target)
		case !res.OK():
			return nil, fmt.Sprintf("Capturing the prior state of %s failed (exit status %d).", a.Target, res.ExitCode)
		case len(res.Stdout) > MaxPriorBytes:
			return nil, fmt.Sprintf("The prior state of %s is %d bytes, more than %d: it could not be restored, so it is not changed.",
				a.Target, len(res.Stdout), MaxPriorBytes)
		case !utf8.Valid(res.Stdout):
			return nil, fmt.Sprintf("The prior state of %s is not text.", a.Target)
		}
		prior[i] = string(res.Stdout)
	}
	return prior, ""
}

func (s *Service) storeCapture(ctx context.Context, r *hostRun, planned Planned, prior []string) error {
	actions, err := json.Marshal(nonNilA(planned.Actions))
	if err != nil {
		return err
	}
	priorJSON, err := json.Marshal(nonNilS(prior))
	if err != nil {
		return err
	}
	manual, err := json.Marshal(nonNilM(planned.Manual))
	if err != nil {
		return err
	}
	r.host.Actions, r.host.Prior, r.host.Manual, r.host.Applied = actions, priorJSON, manual, 0
	return pg.Translate(s.q.ChangeJobHostCaptured(ctx, dbq.ChangeJobHostCapturedParams{JobID: r.job.ID, HostID: r.host.HostID,
		Actions: actions, Prior: priorJSON, Manual: manual}))
}

// record stores one step; a failure to store it is logged (the change goes on).
func (r *hostRun) record(ctx context.Context, phase, name, command string, res sshx.Result, ok bool) {
	now := r.s.now()
	started, finished := now, now
	if span, found := r.spans[res.Name]; found && res.Name != "" {
		started, finished = span[0], span[1]
	}
	stdout, t1 := capText(res.Stdout, maxStepOutput)
	stderr, t2 := capText(res.Stderr, maxStepOutput)
	cmd, t3 := capText([]byte(command), maxStepCommand)
	exit := int32(res.ExitCode)
	if len(name) > 500 {
		name = name[:500]
	}
	err := r.s.q.ChangeStepInsert(context.WithoutCancel(ctx), dbq.ChangeStepInsertParams{ID: newID(), JobID: r.job.ID,
		HostID: r.host.HostID, Phase: phase, Name: strings.ToValidUTF8(name, "?"), Command: cmd, Stdout: stdout, Stderr: stderr,
		ExitCode: &exit, Ok: ok, Truncated: t1 || t2 || t3, StartedAt: started, FinishedAt: finished})
	if err != nil {
		r.s.log.WarnContext(ctx, "record change step", "error", err)
	}
}

// capText returns b as valid UTF-8 text of at most n bytes, and whether it was cut.
func capText(b []byte, n int) (string, bool) {
	cut := len(b) > n
	if cut {
		b = b[:n]
	}
	return strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", ""), "\uFFFD"), cut
}

// finish ends a host's change: its status, the audit event, the re-scan of a remediation,
// and the job's next move.
func (r *hostRun) finish(ctx context.Context, o outcome) error {
	s := r.s
	r.close()
	ctx = context.WithoutCancel(ctx)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		j, err := q.ChangeJobLock(ctx, r.job.ID)
		if err != nil {
			return err
		}
		r.job = j
		if err := q.ChangeJobHostAddSessions(ctx, dbq.ChangeJobHostAddSessionsParams{JobID: j.ID, HostID: r.host.HostID,
			Sessions: int32(r.sessions), Rebooted: r.rebooted}); err != nil {
			return err
		}
		h, err := s.setHost(ctx, tx, r, o.status, nil, o.err)
		if err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, nil, audit.ActionChangeHostChanged, "change_job", j.ID.String(),
			map[string]any{"kind": j.Kind, "host_id": h.HostID.String(), "host": h.HostName, "status": o.status,
				"error": o.err, "actions_applied": h.Applied})); err != nil {
			return err
		}
		if err := s.rescanTx(ctx, tx, h, false); err != nil {
			return err
		}
		if err := s.raiseRollbackFailed(ctx, tx, j, h); err != nil {
			return err
		}
		return s.advanceTx(ctx, tx, j)
	})
	return pg.Translate(err)
}

// raiseRollbackFailed raises a critical alert for a host whose captured state could not be
// restored: it is left changed and someone must look.
func (s *Service) raiseRollbackFailed(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, h dbq.ChangeJobHost) error {
	if h.Status != HostRollbackFailed {
		return nil
	}
	hostID := h.HostID
	_, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: AlertRollbackFailed + ":" + j.ID.String() + ":" + h.HostID.String(),
		AlertType: AlertRollbackFailed, Severity: "critical", HostID: &hostID,
		Title: "Rollback failed on " + h.HostName, Body: deref(h.Error),
		Tags: map[string]any{"job_id": j.ID.String(), "kind": j.Kind}, At: s.now()})
	return err
}

// rescanTx queues the re-scan of a remediated (or restored) host's rules and links it.
func (s *Service) rescanTx(ctx context.Context, tx pgx.Tx, h dbq.ChangeJobHost, rollback bool) error {
	if s.rescan == nil || len(h.RuleIds) == 0 || h.Applied == 0 {
		return nil
	}
	id, err := s.rescan.RescanTx(ctx, tx, h.HostID, h.RuleIds, "remediation")
	if err != nil || id == uuid.Nil {
		if err != nil {
			s.log.WarnContext(ctx, "queue the re-scan after a remediation", "host_id", h.HostID, "error", err)
		}
		return nil
	}
	p := dbq.ChangeJobHostSetScanParams{JobID: h.JobID, HostID: h.HostID, ScanID: &id}
	if rollback {
		p = dbq.ChangeJobHostSetScanParams{JobID: h.JobID, HostID: h.HostID, RollbackScanID: &id}
	}
	return dbq.New(tx).ChangeJobHostSetScan(ctx, p)
}

// setHost sets a host's status (and phase, error) and publishes it.
func (s *Service) setHost(ctx context.Context, tx pgx.Tx, r *hostRun, status string, phase *string, errText string) (dbq.ChangeJobHost, error) {
	return s.setHostFull(ctx, tx, r, status, phase, errText, nil)
}

func (s *Service) setHostFull(ctx context.Context, tx pgx.Tx, r *hostRun, status string, phase *string, errText string, next *time.Time) (dbq.ChangeJobHost, error) {
	var e *string
	if errText != "" {
		e = &errText
	}
	h, err := dbq.New(tx).ChangeJobHostSetStatus(ctx, dbq.ChangeJobHostSetStatusParams{JobID: r.job.ID, HostID: r.host.HostID,
		Status: status, Phase: phase, Error: e, NextWindowAt: next, At: s.now()})
	if err != nil {
		return h, err
	}
	r.host = h
	return h, s.publishHost(ctx, tx, r.job, h)
}

func (s *Service) publishHost(ctx context.Context, tx pgx.Tx, j dbq.ChangeJob, h dbq.ChangeJobHost) error {
	return s.publish(ctx, tx, j, "change_job.host", map[string]any{"host_id": h.HostID, "host_status": h.Status,
		"phase": h.Phase, "wave": h.Wave})
}

// setPhase records the phase a running host is in, and publishes it.
func (s *Service) setPhase(ctx context.Context, r *hostRun, phase string) {
	err := pg.WithTx(context.WithoutCancel(ctx), s.pool, func(tx pgx.Tx) error {
		if err := dbq.New(tx).ChangeJobHostSetPhase(ctx, dbq.ChangeJobHostSetPhaseParams{JobID: r.job.ID, HostID: r.host.HostID,
			Phase: &phase}); err != nil {
			return err
		}
		r.host.Phase = &phase
		return s.publishHost(ctx, tx, r.job, r.host)
	})
	if err != nil {
		s.log.WarnContext(ctx, "record change phase", "error", err)
	}
}

// nextOpening returns when the host's next window opens (nil: it has none).
func (s *Service) nextOpening(ctx context.Context, hostID uuid.UUID) *time.Time {
	next, _, err := s.windows.PreviewHost(ctx, hostID, 1)
	if err != nil || len(next) == 0 {
		return nil
	}
	t := next[0].Start
	return &t
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func nonNilA(a []Action) []Action {
	if a == nil {
		return []Action{}
	}
	return a
}

func nonNilM(m []Manual) []Manual {
	if m == nil {
		return []Manual{}
	}
	return m
}
