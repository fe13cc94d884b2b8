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
)

// Queue is the River queue deliveries run on, apart from other jobs so that scans and
// probes never wait behind slow receivers, nor deliveries behind them.
const Queue = "notify"

// channelWait is how long an attempt waits for a slot of its channel before it snoozes;
// channelStuck is how long a channel's slots must all have been held for it to count as
// stuck, when its attempts snooze at once.
const (
	channelWait  = 500 * time.Millisecond
	channelStuck = time.Second
)

// Slots is how many deliveries this process attempts at once (the queue's workers).
func (s *Service) Slots() int { return s.opts.Workers }

// inflight holds, per channel, a semaphore of the attempts this process runs at once.
type inflight struct {
	mu    sync.Mutex
	chans map[uuid.UUID]*slots
}

// slots is one channel's semaphore and when a slot was last taken or freed.
type slots struct {
	sem  chan struct{}
	mu   sync.Mutex
	last time.Time
}

func (c *slots) touch() {
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
}

func (c *slots) stuck() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.last) > channelStuck
}

// acquire takes one of channel id's max slots. When all are taken it waits up to wait
// for one to free, unless none has freed for channelStuck (a receiver that does not
// answer): then, and when the wait runs out, it reports false and the job snoozes
// instead of holding a worker.
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
	if c.stuck() {
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
	return ok && len(c.sem) == cap(c.sem) && c.stuck()
}

// snooze puts a job of a busy channel back for a few seconds; it costs no attempt.
func snooze() error {
	return river.JobSnooze(5*time.Second + time.Duration(rand.Int64N(int64(10*time.Second))))
}

func (f *inflight) release(id uuid.UUID) {
	f.mu.Lock()
	c := f.chans[id]
	f.mu.Unlock()
	<-c.sem
	c.touch()
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
		return snooze()
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
		return snooze()
	}
	defer s.busy.release(row.ID)
	sendErr := s.deliver(ctx, toChannel(row), n, d.ID)
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
