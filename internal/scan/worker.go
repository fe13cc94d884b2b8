package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/pg"
)

// JobKind is the River kind of a scan job.
const JobKind = "compliance_scan"

// Args is the job that runs one scan.
type Args struct {
	ScanID uuid.UUID `json:"scan_id"`
}

// Kind names the job kind.
func (Args) Kind() string { return JobKind }

// InsertOpts allows a few attempts: a scan interrupted by a crash or a database error
// runs again from the start; its results are written once, by the attempt that finishes.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type scanWorker struct {
	river.WorkerDefaults[Args]
	svc *Service
}

// Timeout bounds a scan job: connecting, the program (which the SSH command timeout
// bounds too) and storing.
func (w *scanWorker) Timeout(*river.Job[Args]) time.Duration { return 15 * time.Minute }

func (w *scanWorker) Work(ctx context.Context, job *river.Job[Args]) error {
	err := w.svc.Run(ctx, job.Args.ScanID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		w.svc.finishFailed(context.WithoutCancel(ctx), job.Args.ScanID, err)
	}
	return err
}

// Run performs a queued (or interrupted) scan to its end: it connects to the host, runs
// the program, and stores the results in one transaction. A scan that cannot reach its
// host, or whose host gives garbage, ends failed with the reason; only a database error
// is returned (the job is retried). A scan already ended or cancelled is left alone.
func (s *Service) Run(ctx context.Context, id uuid.UUID) error {
	var row dbq.Scan
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = dbq.New(tx).ScanStart(ctx, dbq.ScanStartParams{ID: id, StartedAt: s.now()})
		if err != nil {
			return pg.NotFoundAs(err, errEnded)
		}
		return s.publish(ctx, tx, row, "scan.started", nil)
	})
	if errors.Is(err, errEnded) {
		return nil
	}
	if err != nil {
		return pg.Translate(err)
	}
	if stopped, err := s.stopInMaintenance(ctx, row); stopped || err != nil {
		return err
	}
	rules, err := s.cat.Select(deref(row.Framework), row.RuleIds)
	if err != nil {
		return s.finishWith(ctx, row, "failed", "the scan's rules are no longer in the corpus: "+err.Error())
	}
	vars, err := s.variables(ctx)
	if err != nil {
		return err
	}
	conn, err := s.ssh.Connect(ctx, row.HostID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // stopped while connecting: the scan did not fail, River retries it
		}
		if apperr.Is(err, apperr.CodeNotFound) {
			return s.finishWith(ctx, row, "failed", "the host no longer exists")
		}
		return s.finishWith(ctx, row, "failed", reasonOf(err))
	}
	defer func() { _ = conn.Close() }()

	prog := &progress{}
	stop := s.reportProgress(ctx, row, prog)
	began := time.Now()
	result, err := engine.Run(ctx, conn, rules, s.engineOptions(vars, prog.set))
	stop()
	if err != nil && s.opts.Finished != nil && ctx.Err() == nil {
		s.opts.Finished(time.Since(began), 0, false) // a completed scan is counted once stored
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the job was stopped: River retries or gives up
		}
		return s.finishWith(ctx, row, "failed", reasonOf(err))
	}
	if cancelled, err := s.q.ScanCancelRequested(ctx, id); err == nil && cancelled {
		return s.finishWith(ctx, row, "cancelled", "")
	}
	return s.store(ctx, row, result)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// reasonOf is the message of a failed scan: the API error's message and detail, or the
// error itself.
func reasonOf(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.CodeInternal {
		msg := ae.Message
		if msg == "" {
			msg = apperr.Registry[ae.Code].Message
		}
		if t, ok := ae.Detail["error_type"]; ok {
			msg += fmt.Sprintf(" (%v)", t)
		}
		if ae.Err != nil {
			msg += ": " + ae.Err.Error()
		}
		return msg
	}
	return err.Error()
}

// progress is how far the program has got.
type progress struct {
	done, total atomic.Int64
}

func (p *progress) set(done, total int) {
	p.done.Store(int64(done))
	p.total.Store(int64(total))
}

// reportProgress records and publishes the progress of a running scan at most every
// ProgressEvery, until the returned stop is called.
func (s *Service) reportProgress(ctx context.Context, row dbq.Scan, p *progress) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.opts.ProgressEvery)
		defer t.Stop()
		var last int64 = -1
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			done, total := p.done.Load(), p.total.Load()
			if done == last || total == 0 {
				continue
			}
			last = done
			err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
				if err := dbq.New(tx).ScanProgress(ctx, dbq.ScanProgressParams{ID: row.ID, RecordsDone: int32(done), RecordsTotal: int32(total)}); err != nil {
					return err
				}
				r := row
				r.Status, r.RecordsDone, r.RecordsTotal = "running", int32(done), int32(total)
				return s.publish(ctx, tx, r, "scan.progress", nil)
			})
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "record scan progress", "scan_id", row.ID.String(), "error", err)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// finishFailed ends a scan whose job gave up.
func (s *Service) finishFailed(ctx context.Context, id uuid.UUID, cause error) {
	row, err := s.q.ScanGet(ctx, id)
	if err != nil {
		return
	}
	if err := s.finishWith(ctx, row, "failed", "the scan could not be completed: "+cause.Error()); err != nil {
		s.log.ErrorContext(ctx, "record failed scan", "scan_id", id.String(), "error", err)
	}
}

// finishWith ends a scan without results (failed or cancelled) and announces it.
func (s *Service) finishWith(ctx context.Context, row dbq.Scan, status, reason string) error {
	ctx = context.WithoutCancel(ctx)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		done, err := dbq.New(tx).ScanFinish(ctx, dbq.ScanFinishParams{ID: row.ID, Status: status, FinishedAt: s.now(),
			RecordsTotal: row.RecordsTotal, RecordsDone: row.RecordsDone, Timings: []byte("{}"), Error: reason})
		if err != nil {
			return pg.NotFoundAs(err, errEnded)
		}
		return s.scanEnded(ctx, tx, done, map[string]any{"error": reason})
	})
	if errors.Is(err, errEnded) {
		return nil // it had ended already
	}
	return pg.Translate(err)
}

// timingsJSON encodes record timings in milliseconds.
func timingsJSON(t map[string]time.Duration) []byte {
	ms := make(map[string]float64, len(t))
	for k, d := range t {
		ms[k] = float64(d.Microseconds()) / 1000
	}
	b, _ := json.Marshal(ms)
	return b
}
