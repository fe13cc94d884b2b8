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

// Slots is how many deliveries this process attempts at once (the queue's workers).
func (s *Service) Slots() int { return s.opts.Workers }

// inflight counts this process's running attempts per channel.
type inflight struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

// acquire takes one of channel id's slots unless it holds max already.
func (f *inflight) acquire(id uuid.UUID, max int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[id] >= max {
		return false
	}
	f.n[id]++
	return true
}

func (f *inflight) release(id uuid.UUID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[id]--; f.n[id] <= 0 {
		delete(f.n, id)
	}
}

// DeliverArgs is the job of one delivery attempt.
type DeliverArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
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
	if !s.busy.acquire(row.ID, s.opts.ChannelWorkers) {
		return river.JobSnooze(time.Second + time.Duration(rand.Int64N(int64(time.Second))))
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
