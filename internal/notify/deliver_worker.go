package notify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/worker"
)

// Queue is the River queue deliveries run on, apart from other jobs so that scans and
// probes never wait behind slow receivers, nor deliveries behind them.
const Queue = "notify"

// When all of a channel's slots are taken, an attempt waits up to channelWait for one to
// free, but only while the channel is moving: when none has freed for channelIdle, it
// snoozes at once rather than hold one of the queue's workers, which other channels'
// deliveries need. A channel whose slots have all been held, none freed, for
// channelStuck is stuck (its receiver does not answer): its breaker opens.
const (
	channelWait  = 500 * time.Millisecond
	channelIdle  = 200 * time.Millisecond
	channelStuck = time.Second
)

// A stuck channel's breaker opens: its waiting jobs are parked (held back in the queue)
// for Options.HoldBack, doubling each time it is still stuck when they come back, up to
// holdBackGrowth times as long; one delivered attempt closes it again.
const holdBackGrowth = 20

// Slots is how many deliveries this process attempts at once (the queue's workers).
func (s *Service) Slots() int { return s.opts.Workers }

// inflight holds, per channel, a semaphore of the attempts this process runs at once.
type inflight struct {
	mu       sync.Mutex
	chans    map[uuid.UUID]*slots
	holdBack time.Duration
}

// slots is one channel's semaphore and when a slot was last taken or freed.
type slots struct {
	sem  chan struct{}
	mu   sync.Mutex
	last time.Time
	// The breaker: open while parkFor > 0, its jobs held back until parkedUntil.
	parkFor     time.Duration
	parkedUntil time.Time
}

// open reports whether the channel's breaker is open (stuck since its last delivery).
func (c *slots) open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parkFor > 0
}

func (c *slots) touch() {
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
}

// idle reports whether no slot was taken or freed for d.
func (c *slots) idle(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.last) > d
}

// acquire takes one of channel id's max slots. When all are taken it waits up to wait
// for one to free if the channel is moving (a slot freed within channelIdle) and its
// breaker is closed; otherwise, and when the wait runs out, it reports false and the job
// snoozes instead of holding a worker.
func (f *inflight) acquire(ctx context.Context, id uuid.UUID, max int, wait time.Duration) bool {
	f.mu.Lock()
	c, ok := f.chans[id]
	if !ok {
		c = &slots{sem: make(chan struct{}, max), last: time.Now()}
		f.chans[id] = c
	}
	f.mu.Unlock()
	select {
	case c.sem <- struct{}{}:
		c.touch()
		return true
	default:
	}
	if c.idle(channelIdle) || c.open() {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c.sem <- struct{}{}:
		c.touch()
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// stuck reports whether channel id has all its slots taken and none freed for
// channelStuck.
func (f *inflight) stuck(id uuid.UUID) bool {
	f.mu.Lock()
	c, ok := f.chans[id]
	f.mu.Unlock()
	return ok && len(c.sem) == cap(c.sem) && c.idle(channelStuck)
}

// snooze puts a job of a busy channel back for a second or three; it costs no attempt.
func snooze() error {
	return river.JobSnooze(time.Second + time.Duration(rand.Int64N(int64(2*time.Second))))
}

// release frees a slot of channel id; a delivered attempt closes its breaker, and
// reports whether it was open (its held-back jobs may come back now).
func (f *inflight) release(id uuid.UUID, delivered bool) (closed bool) {
	f.mu.Lock()
	c := f.chans[id]
	f.mu.Unlock()
	<-c.sem
	c.touch()
	if delivered {
		c.mu.Lock()
		closed = c.parkFor > 0
		c.parkFor, c.parkedUntil = 0, time.Time{}
		c.mu.Unlock()
	}
	return closed
}

// heldUntil says until when channel id's breaker holds its deliveries back, if it does.
func (f *inflight) heldUntil(id uuid.UUID) (time.Time, bool) {
	f.mu.Lock()
	c := f.chans[id]
	f.mu.Unlock()
	if c == nil {
		return time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parkedUntil, c.parkFor > 0 && time.Now().Before(c.parkedUntil)
}

// isOpen reports whether channel id's breaker is open.
func (f *inflight) isOpen(id uuid.UUID) bool {
	f.mu.Lock()
	c := f.chans[id]
	f.mu.Unlock()
	return c != nil && c.open()
}

// trip opens (or keeps open) channel id's breaker and says until when its jobs are held
// back, and whether this call must park them (once per opening or doubling, not per job).
func (f *inflight) trip(id uuid.UUID, now time.Time) (until time.Time, park bool) {
	f.mu.Lock()
	c := f.chans[id]
	f.mu.Unlock()
	if c == nil {
		return now.Add(f.holdBack), false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.parkedUntil) {
		return c.parkedUntil, false
	}
	c.parkFor = min(max(2*c.parkFor, f.holdBack), holdBackGrowth*f.holdBack)
	c.parkedUntil = now.Add(c.parkFor)
	return c.parkedUntil, true
}

// parkChannel holds back every waiting job of a stuck channel until its breaker's time
// runs out, in one statement, so that the queue's workers fetch live channels' jobs
// instead of fetching and snoozing the stuck one's one by one; this job snoozes as long.
func (s *Service) parkChannel(ctx context.Context, id uuid.UUID) error {
	now := time.Now()
	until, park := s.busy.trip(id, now)
	// A little jitter, so the held-back jobs do not all come back in the same instant.
	until = until.Add(time.Duration(rand.Int64N(int64(time.Second))))
	if park {
		n, err := worker.Park(ctx, s.pool, Queue, DeliverArgs{}.Kind(), "channel_id", id.String(), until)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "could not hold back a stuck channel's deliveries", slog.String("channel_id", id.String()),
				slog.String("error", err.Error()))
			return snooze()
		}
		s.opts.Logger.WarnContext(ctx, "a notification channel does not answer: its deliveries wait",
			slog.String("channel_id", id.String()), slog.Int64("held_back", n), slog.Time("until", until))
	}
	return river.JobSnooze(time.Until(until))
}

// DeliverArgs is the job of one delivery attempt.
type DeliverArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
	// ChannelID lets a job of a stuck channel snooze before reading anything (jobs queued
	// before it was added carry none).
	ChannelID uuid.UUID `json:"channel_id,omitempty"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "notify_deliver" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	svc *Service
}

// RegisterJobs adds the delivery worker to workers; deliveries have no periodic jobs.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &deliverWorker{svc: s})
	return nil
}

// Timeout bounds a job by its one attempt, plus a margin for recording the outcome.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.svc.opts.Timeout + 30*time.Second
}

// Work makes one attempt. A failed attempt returns its error so River retries with its
// exponential back-off; the last one marks the delivery dead.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.svc
	if job.Args.ChannelID != uuid.Nil && s.busy.stuck(job.Args.ChannelID) {
		return s.parkChannel(ctx, job.Args.ChannelID)
	}
	d, err := s.q.NotifyDeliveryGet(ctx, job.Args.DeliveryID)
	if err != nil {
		if err = pg.IgnoreNotFound(err); err == nil {
			return river.JobCancel(errors.New("the delivery does not exist"))
		}
		return err
	}
	if d.Status == StatusDelivered || d.Status == StatusSkipped {
		return nil
	}
	if d.ReportID != nil {
		return river.JobCancel(errors.New("a report delivery is sent by the report package"))
	}
	row, err := s.q.NotifyChannelGetAny(ctx, d.ChannelID)
	if err != nil {
		return pg.Translate(err)
	}
	if row.DeletedAt != nil {
		msg := "the channel was deleted"
		err := s.record(ctx, dbq.NotifyDeliveryRecordParams{ID: d.ID, Status: StatusDead, LastError: &msg, Now: s.opts.Now()})
		return errors.Join(err, river.JobCancel(errors.New(msg)))
	}
	var n Notice
	if err := json.Unmarshal(d.Payload, &n); err != nil {
		return river.JobCancel(err)
	}
	// A channel whose receiver is slow holds at most ChannelWorkers slots: its other
	// deliveries wait (a snooze costs no attempt) while other channels' go on.
	if !s.busy.acquire(ctx, row.ID, s.opts.ChannelWorkers, channelWait) {
		if s.busy.stuck(row.ID) || s.busy.isOpen(row.ID) {
			return s.parkChannel(ctx, row.ID)
		}
		return snooze()
	}
	delivered := false
	defer func() {
		if s.busy.release(row.ID, delivered) {
			// The channel answers again: what its breaker held back goes now.
			if _, err := worker.Unpark(context.WithoutCancel(ctx), s.pool, Queue, DeliverArgs{}.Kind(), "channel_id", row.ID.String()); err != nil {
				s.opts.Logger.WarnContext(ctx, "could not release a channel's held-back deliveries", slog.String("error", err.Error()))
			}
		}
	}()
	ch := toChannel(row)
	sendErr := s.deliver(ctx, ch, n, d.ID)
	delivered = sendErr == nil
	status, lastErr := StatusDelivered, (*string)(nil)
	if sendErr != nil {
		msg := sendErr.Error()
		lastErr, status = &msg, StatusFailed
		if job.Attempt >= job.MaxAttempts {
			status = StatusDead
		}
		s.opts.Logger.WarnContext(ctx, "notification delivery failed", slog.String("delivery_id", d.ID.String()),
			slog.String("channel_id", d.ChannelID.String()), slog.Int("attempt", job.Attempt), slog.String("error", msg))
	}
	// The outcome is recorded even when the attempt's context ran out.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.record(rctx, dbq.NotifyDeliveryRecordParams{ID: d.ID, Status: status, LastError: lastErr, Now: s.opts.Now()}); err != nil {
		return err
	}
	return sendErr
}

// record stores the outcome of an attempt; the announcer publishes it shortly after.
func (s *Service) record(ctx context.Context, p dbq.NotifyDeliveryRecordParams) error {
	d, err := s.q.NotifyDeliveryRecord(ctx, p)
	if err != nil {
		return pg.Translate(err)
	}
	s.outcomes.add(d)
	return nil
}
