package liveness

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// The event types liveness publishes.
const (
	EventStateChanged = "host.state_changed"
)

// AlertHostUnreachable is the alert_type raised when a host goes down.
const AlertHostUnreachable = "host_unreachable"

// recordTimeout bounds the transaction that records a batch.
const recordTimeout = 30 * time.Second

// outcome is what became of one leased host: a probe, or (probe nil) a maintenance mark.
type outcome struct {
	cur         dbq.LivenessClaimDueRow
	probe       *Probe
	maintenance bool
}

// transition is a state change to announce.
type transition struct {
	o    outcome
	prev string
	v    verdict
	at   time.Time
}

// record stores a batch of outcomes in one transaction: the liveness rows (ending their
// leases), a history row, an event and the alert bookkeeping for each state change, the
// counters, and then whatever extra writes (the audit event of an on-demand check). It
// returns the verdict of each outcome, in order.
func (s *Service) record(ctx context.Context, cfg Config, outs []outcome, extra func(pgx.Tx, []verdict) error) ([]verdict, error) {
	now := s.opts.Now()
	verdicts := make([]verdict, len(outs))
	rows := make([]dbq.LivenessRecordParams, len(outs))
	var hist []dbq.LivenessHistoryInsertParams
	var changes []transition
	var add dbq.LivenessCountersAddParams
	for i, o := range outs {
		v := judge(o.cur, o.probe, o.maintenance, cfg.UnreachableThreshold)
		verdicts[i] = v
		at := now
		if o.probe != nil {
			at = o.probe.At
			add.Probes++
			if o.probe.OK() {
				add.Successes++
			} else {
				add.Failures++
			}
			if add.LastProbeAt == nil || at.After(*add.LastProbeAt) {
				add.LastProbeAt = &at
			}
		}
		rows[i] = recordParams(o, v, s.nextProbe(cfg, v.state, now), now)
		if v.state != o.cur.MonitoringState {
			rows[i].LastStateChangeAt = &at
			hist = append(hist, historyParams(o, v, at))
			changes = append(changes, transition{o: o, prev: o.cur.MonitoringState, v: v, at: at})
		}
	}
	add.Transitions = int64(len(changes))
	// Probes that finished are recorded even when ctx ended meanwhile (a shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := batchErr(len(rows), q.LivenessRecord(ctx, rows).Exec); err != nil {
			return err
		}
		if len(hist) > 0 {
			if err := batchErr(len(hist), q.LivenessHistoryInsert(ctx, hist).Exec); err != nil {
				return err
			}
		}
		for _, c := range changes {
			if err := s.announce(ctx, tx, c); err != nil {
				return err
			}
		}
		if err := q.LivenessCountersAdd(ctx, add); err != nil {
			return pg.Translate(err)
		}
		if extra != nil {
			return extra(tx, verdicts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return verdicts, nil
}

// batchErr runs a batch and returns its first error.
func batchErr(n int, exec func(func(int, error))) error {
	var first error
	exec(func(_ int, err error) {
		if err != nil && first == nil {
			first = err
		}
	})
	return pg.Translate(first)
}

func recordParams(o outcome, v verdict, next, now time.Time) dbq.LivenessRecordParams {
	c := o.cur
	r := dbq.LivenessRecordParams{
		HostID: c.HostID, MonitoringState: v.state, ReachabilityStatus: v.reachability,
		LastProbeAt: c.LastProbeAt, LastResponseMs: c.LastResponseMs,
		ConsecutiveFailures:     v.c.failures,
		PingConsecutiveFailures: v.c.pingFailures, PingConsecutiveSuccesses: v.c.pingSuccesses,
		SshConsecutiveFailures: v.c.sshFailures, SshConsecutiveSuccesses: v.c.sshSuccesses,
		PrivilegeConsecutiveFailures: v.c.privFailures, PrivilegeConsecutiveSuccesses: v.c.privSuccesses,
		Privilege: c.Privilege, SshBanner: c.SshBanner, LastStateChangeAt: c.LastStateChangeAt,
		LastErrorType: c.LastErrorType, LastErrorMessage: c.LastErrorMessage,
		NextProbeAt: next, At: now,
	}
	p := o.probe
	if p == nil {
		return r
	}
	ms := int32(p.ResponseMS)
	r.LastProbeAt, r.LastResponseMs = &p.At, &ms
	r.LastErrorType, r.LastErrorMessage = optional(p.ErrorType), optional(p.ErrorMessage)
	if p.Banner != "" {
		r.SshBanner = &p.Banner
	}
	if p.Privilege != "" {
		r.Privilege = &p.Privilege
	}
	return r
}

func historyParams(o outcome, v verdict, at time.Time) dbq.LivenessHistoryInsertParams {
	h := dbq.LivenessHistoryInsertParams{HostID: o.cur.HostID, CheckTime: at, MonitoringState: v.state,
		PreviousState: &o.cur.MonitoringState}
	if p := o.probe; p != nil {
		ms := int32(p.ResponseMS)
		h.ResponseTimeMs, h.PingOk, h.SshOk, h.PrivilegeOk = &ms, &p.PingOK, p.SSHOK, p.PrivilegeOK
		h.FailedLayer, h.ErrorType, h.ErrorMessage = optional(p.FailedLayer), optional(p.ErrorType), optional(p.ErrorMessage)
	}
	return h
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// announce publishes a state change and keeps the host_unreachable alert in step: opened
// on entering down, resolved on coming back online or degraded.
func (s *Service) announce(ctx context.Context, tx pgx.Tx, c transition) error {
	hostID := c.o.cur.HostID
	data := map[string]any{
		"host_id": hostID, "previous_state": c.prev, "monitoring_state": c.v.state,
		"reachability_status": c.v.reachability, "check_time": c.at,
	}
	if p := c.o.probe; p != nil && p.FailedLayer != "" {
		data["failed_layer"], data["error_type"] = p.FailedLayer, p.ErrorType
	}
	if err := publish(ctx, tx, events.TopicLiveness, EventStateChanged, hostID, data); err != nil {
		return err
	}
	switch c.v.state {
	case StateDown:
		return s.raiseAlert(ctx, tx, c)
	case StateOnline, StateDegraded:
		_, err := alert.AutoResolveTx(ctx, tx, s.audit, unreachableKey(hostID), c.at)
		return err
	}
	return nil
}

// unreachableKey is the dedup key of a host's host_unreachable alert (the key 00023 gave
// the alerts it found).
func unreachableKey(hostID uuid.UUID) string { return AlertHostUnreachable + ":" + hostID.String() }

// raiseAlert raises the host's host_unreachable alert (a recurrence while it is live is
// counted on it).
func (s *Service) raiseAlert(ctx context.Context, tx pgx.Tx, c transition) error {
	hostID := c.o.cur.HostID
	addr := targetAddr(c.o.cur.IpAddress, c.o.cur.Port)
	tags := map[string]any{"address": addr, "consecutive_failures": c.v.c.pingFailures}
	if p := c.o.probe; p != nil {
		tags["error_type"], tags["error_message"] = p.ErrorType, p.ErrorMessage
	}
	_, err := alert.RaiseTx(ctx, tx, alert.Raise{
		DedupKey: unreachableKey(hostID), AlertType: AlertHostUnreachable, Severity: "high", HostID: &hostID,
		Title: fmt.Sprintf("Host %s is unreachable over SSH", addr), Tags: tags, At: c.at,
	})
	return err
}

func publish(ctx context.Context, tx pgx.Tx, topic events.Topic, typ string, hostID uuid.UUID, data map[string]any) error {
	_, err := events.Publish(ctx, tx, events.Event{Topic: topic, Type: typ, HostID: &hostID,
		Permission: authz.PermHostRead, Data: data})
	return err
}
