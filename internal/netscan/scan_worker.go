package netscan

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// JobKind is the River kind of a scan job.
const JobKind = "netscan_scan"

// ScanArgs is the job that runs one scan.
type ScanArgs struct {
	ScanID uuid.UUID `json:"scan_id"`
	// Total is the number of probes, which bounds how long the job may run.
	Total int64 `json:"total"`
}

// Kind names the job kind.
func (ScanArgs) Kind() string { return JobKind }

// InsertOpts allows a few attempts: a scan interrupted by a crash or a database error
// starts over (what it already found is kept).
func (ScanArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	svc *Service
}

// RegisterJobs adds the scan worker to workers; scans have no periodic jobs.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &scanWorker{svc: s})
	return nil
}

// Timeout lets a job run for as long as its scan takes at the worst (every probe timing
// out), plus a minute; River's rescuer also waits that long before it runs the job of a
// dead process again.
func (w *scanWorker) Timeout(job *river.Job[ScanArgs]) time.Duration {
	o := w.svc.opts
	conc := int64(o.Concurrency)
	rounds := (max(job.Args.Total, 1) + conc - 1) / conc
	return time.Duration(rounds)*o.ProbeTimeout + time.Minute
}

func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	err := w.svc.Run(ctx, job.Args.ScanID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		w.svc.fail(context.WithoutCancel(ctx), job.Args.ScanID, err)
	}
	return err
}

// Run performs a queued (or interrupted) scan to the end. A scan already finished, or
// gone, is left alone. Running it again after a crash probes the range again; servers
// already recorded are not recorded, nor announced, twice.
func (s *Service) Run(ctx context.Context, id uuid.UUID) error {
	scan, err := s.q.NetscanStart(ctx, id)
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	prefix, err := netip.ParsePrefix(scan.Cidr)
	if err != nil {
		// Stored by Start, so never malformed; a retry would not help.
		s.fail(ctx, id, err)
		return nil
	}
	r := &run{svc: s, scan: scan}
	if err := r.probeAll(ctx, prefix); err != nil {
		return err
	}
	return s.finish(ctx, scan, r.scanned.Load(), "completed", nil)
}

// run is the state of one scan in progress.
type run struct {
	svc     *Service
	scan    dbq.DiscoveryScan
	scanned atomic.Int64

	errOnce sync.Once
	err     error
}

type target struct {
	addr netip.Addr
	port int32
}

func (r *run) setErr(err error) {
	r.errOnce.Do(func() { r.err = err })
}

// probeAll probes every target with bounded concurrency while a reporter records the
// progress periodically. It returns the first recording error (the scan then stops).
func (r *run) probeAll(ctx context.Context, prefix netip.Prefix) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	targets := make(chan target)
	var workers sync.WaitGroup
	for range r.svc.opts.Concurrency {
		workers.Go(func() {
			for t := range targets {
				if err := r.probe(ctx, t); err != nil {
					r.setErr(err)
					cancel()
				}
			}
		})
	}
	reporterDone := make(chan struct{})
	stopReporter := make(chan struct{})
	go func() {
		defer close(reporterDone)
		r.report(ctx, stopReporter)
	}()
feed:
	for a := range scanAddresses(prefix) {
		for _, p := range r.scan.Ports {
			select {
			case targets <- target{addr: a, port: p}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(targets)
	workers.Wait()
	close(stopReporter)
	<-reporterDone
	if r.err != nil {
		return r.err
	}
	return ctx.Err()
}

// probe reads the banner of one target and records a server that answered.
func (r *run) probe(ctx context.Context, t target) error {
	addr := netip.AddrPortFrom(t.addr, uint16(t.port)).String()
	banner, elapsed, err := r.svc.opts.Banner(ctx, addr, r.svc.opts.ProbeTimeout)
	if ctx.Err() != nil {
		return nil // stopping: this try does not count
	}
	r.scanned.Add(1)
	if err != nil {
		return nil // nothing (or no SSH server) there
	}
	ms := int32(min(elapsed.Milliseconds(), 1<<31-1))
	return pg.WithTx(ctx, r.svc.pool, func(tx pgx.Tx) error {
		foundAt, err := dbq.New(tx).NetscanHostInsert(ctx, dbq.NetscanHostInsertParams{
			ScanID: r.scan.ID, Address: t.addr, Port: t.port, SshBanner: banner, ResponseTimeMs: &ms})
		if err != nil {
			return pg.IgnoreNotFound(err) // no row: recorded by an earlier run of this job
		}
		_, err = events.Publish(ctx, tx, events.Event{Topic: events.TopicDiscovery, Type: "discovery.host_found",
			Permission: authz.PermHostRead, Data: map[string]any{
				"scan_id": r.scan.ID, "address": t.addr.String(), "port": t.port, "ssh_banner": banner,
				"response_time_ms": ms, "found_at": foundAt}})
		return err
	})
}

// report records the progress every ProgressEvery until stop closes.
func (r *run) report(ctx context.Context, stop <-chan struct{}) {
	tick := time.NewTicker(r.svc.opts.ProgressEvery)
	defer tick.Stop()
	last := int64(-1)
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			n := r.scanned.Load()
			if n == last {
				continue
			}
			last = n
			if err := r.svc.progress(ctx, r.scan, n); err != nil && ctx.Err() == nil {
				r.svc.opts.Logger.WarnContext(ctx, "record scan progress", slog.String("scan_id", r.scan.ID.String()), slog.Any("error", err))
			}
		}
	}
}

// progressEvent is the job.progress event of a scan.
func progressEvent(scan dbq.DiscoveryScan, scanned, found int64, status string) events.Event {
	return events.Event{Topic: events.TopicJobs, Type: "job.progress", Permission: authz.PermHostRead,
		Data: map[string]any{"kind": JobKind, "scan_id": scan.ID, "status": status,
			"scanned": scanned, "total": scan.Total, "found": found}}
}

// progress stores the count of tries done and publishes it.
func (s *Service) progress(ctx context.Context, scan dbq.DiscoveryScan, scanned int64) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		found, err := dbq.New(tx).NetscanProgress(ctx, dbq.NetscanProgressParams{ID: scan.ID, Scanned: scanned})
		if err != nil {
			return err
		}
		_, err = events.Publish(ctx, tx, progressEvent(scan, scanned, found, "running"))
		return err
	})
}

// finish marks the scan completed or failed and announces it.
func (s *Service) finish(ctx context.Context, scan dbq.DiscoveryScan, scanned int64, status string, cause error) error {
	var msg *string
	if cause != nil {
		m := cause.Error()
		msg = &m
	}
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := dbq.New(tx).NetscanFinish(ctx, dbq.NetscanFinishParams{ID: scan.ID, Status: status, Error: msg, Scanned: scanned})
		if err != nil {
			return pg.IgnoreNotFound(err) // no row: finished already
		}
		if _, err := events.Publish(ctx, tx, progressEvent(row, row.Scanned, row.Found, status)); err != nil {
			return err
		}
		data := map[string]any{"scan_id": row.ID, "cidr": row.Cidr, "status": status,
			"scanned": row.Scanned, "total": row.Total, "found": row.Found}
		if msg != nil {
			data["error"] = *msg
		}
		_, err = events.Publish(ctx, tx, events.Event{Topic: events.TopicDiscovery, Type: "discovery.completed",
			Permission: authz.PermHostRead, Data: data})
		return err
	})
}

// fail marks a scan failed after its last attempt.
func (s *Service) fail(ctx context.Context, id uuid.UUID, cause error) {
	scan, err := s.q.NetscanGet(ctx, id)
	if err == nil {
		err = s.finish(ctx, scan, scan.Scanned, "failed", cause)
	}
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "mark scan failed", slog.String("scan_id", id.String()),
			slog.Any("error", err), slog.Any("cause", cause))
	}
}
