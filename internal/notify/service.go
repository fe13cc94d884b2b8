package notify

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
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
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// The channel types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeEmail   = "email"
)

// The TLS modes of an email channel.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// The statuses of a delivery.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
	StatusDead      = "dead"
	StatusSkipped   = "skipped"
)

// Severities, least to most severe.
var severities = []string{"info", "low", "medium", "high", "critical"}

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Enqueuer inserts background jobs; *river.Client[pgx.Tx] satisfies it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options tune delivery.
type Options struct {
	// Guard decides which addresses may be reached (zero: refuse DefaultDenied, allow the rest).
	Guard *Guard
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is dead (default 8).
	MaxAttempts int
	// Workers is how many deliveries this process attempts at once, on its own queue
	// (default 50); ChannelWorkers is how many of those one channel may hold (default 10),
	// so a receiver that never answers holds at most that many while the others go on.
	Workers        int
	ChannelWorkers int
	// HoldBack is how long a stuck channel's waiting deliveries are first held back when
	// its breaker opens (default 15 s); it doubles while the channel stays stuck, up to
	// 20 times as long, and a delivered attempt closes the breaker.
	HoldBack time.Duration
	// RootCAs verifies SMTP servers' certificates (nil: the system's roots).
	RootCAs *x509.CertPool
	Logger  *slog.Logger
	Now     func() time.Time
	// Delivered, when set, is told the channel type and outcome of every attempt to send
	// a notice, deliveries and channel tests alike (metrics).
	Delivered func(channelType string, ok bool)
}

// Service manages notification channels and delivers notices through them.
type Service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	sealer   Sealer
	audit    *audit.Writer
	jobs     Enqueuer
	send     sender
	opts     Options
	busy     *inflight
	outcomes *outcomes
	// reportRequeue queues a report delivery again (SetReportRequeue).
	reportRequeue ReportRequeueFunc
}

// NewService returns the notification service.
func NewService(pool *pgxpool.Pool, sealer Sealer, aw *audit.Writer, jobs Enqueuer, o Options) *Service {
	if o.Guard == nil {
		o.Guard = &Guard{Denied: DefaultDenied()}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Workers <= 0 {
		o.Workers = 50
	}
	if o.ChannelWorkers <= 0 {
		o.ChannelWorkers = 10
	}
	if o.HoldBack <= 0 {
		o.HoldBack = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), sealer: sealer, audit: aw, jobs: jobs, opts: o, busy: &inflight{chans: map[uuid.UUID]*slots{}, holdBack: o.HoldBack}, outcomes: &outcomes{},
		send: sender{guard: *o.Guard, timeout: o.Timeout, now: o.Now, roots: o.RootCAs}}
}

// Config is a channel's type-specific settings, stored as JSON without the secret.
type Config struct {
	URL      string   `json:"url,omitempty"`
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	TLSMode  string   `json:"tls_mode,omitempty"`
	Username string   `json:"username,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

// Routing chooses the notices a channel receives.
type Routing struct {
	MinSeverity string
	AlertTypes  []string
	HostTags    []string
	GroupIDs    []uuid.UUID
}

// Channel is a channel without its secret.
type Channel struct {
	ID        uuid.UUID
	Name      string
	Type      string
	Enabled   bool
	Config    Config
	SecretSet bool
	Routing   Routing
	CreatedAt time.Time
	UpdatedAt time.Time
}

// channel is a stored channel with its sealed secret.
type channel struct {
	Channel
	sealed []byte
}

// CreateInput describes a new channel. Secret "" means none.
type CreateInput struct {
	Name    string
	Type    string
	Enabled bool
	Config  Config
	Secret  string
	Routing Routing
}

// UpdateInput changes a channel; nil fields are left alone. Secret "" keeps the stored one.
type UpdateInput struct {
	Name        *string
	Enabled     *bool
	Config      *Config
	Secret      *string
	ClearSecret bool
	Routing     *Routing
}

// Notice is one alert transition to announce. Callers fill what they know; Tags are the
// host's tags (routing by tag), HostID routes by group.
type Notice struct {
	AlertID    *uuid.UUID
	Transition string
	Severity   string
	AlertType  string
	HostID     *uuid.UUID
	Hostname   *string
	RuleID     *string
	Tags       []string
	Title      string
	Body       string
	// Suppressed notices (a host in maintenance) are recorded as skipped, never sent.
	Suppressed bool
}

// Delivery is one notice's delivery to one channel.
type Delivery = dbq.NotificationDelivery

// TestResult is the outcome of a test message.
type TestResult struct {
	Delivered bool
	Error     string
	Duration  time.Duration
}

func errNotFound() error { return apperr.NotFound("The notification channel does not exist.") }

// Create adds a channel. Guarded by notification:write. Errors: validation_failed (a
// field, named), resource.conflict (the name is taken).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (Channel, error) {
	if err := s.check(in.Name, in.Type, &in.Config, &in.Routing); err != nil {
		return Channel{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Channel{}, apperr.Internal(err)
	}
	var sealed []byte
	if in.Secret != "" {
		if sealed, err = s.sealer.Seal([]byte(in.Secret), secretColumn.AD(id)); err != nil {
			return Channel{}, apperr.Internal(err)
		}
	}
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return Channel{}, apperr.Internal(err)
	}
	var row dbq.NotificationChannel
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.opts.Now()
		row, err = dbq.New(tx).NotifyChannelInsert(ctx, dbq.NotifyChannelInsertParams{
			ID: id, Name: in.Name, Type: in.Type, Enabled: in.Enabled, Config: cfg, SecretSealed: sealed,
			MinSeverity: in.Routing.MinSeverity, AlertTypes: nonNil(in.Routing.AlertTypes), HostTags: nonNil(in.Routing.HostTags),
			GroupIds: nonNil(in.Routing.GroupIDs), CreatedBy: actor.Actor().String(), Now: now,
		})
		if err != nil {
			return writeErr(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionNotificationChannelCreated,
			"notification_channel", id.String(), auditDetail(row, nil)))
	})
	if err != nil {
		return Channel{}, err
	}
	return toChannel(row).Channel, nil
}

// List returns a page of live channels. Guarded by notification:read.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[Channel], error) {
	rows, err := s.q.NotifyChannelList(ctx, dbq.NotifyChannelListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Channel]{}, pg.Translate(err)
	}
	return cursor.Map(cursor.Cut(page, rows, func(r dbq.NotificationChannel) uuid.UUID { return r.ID }),
		func(r dbq.NotificationChannel) Channel { return toChannel(r).Channel }), nil
}

// Get returns a live channel. Guarded by notification:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Channel, error) {
	row, err := s.q.NotifyChannelGet(ctx, id)
	if err != nil {
		return Channel{}, pg.NotFoundAs(err, errNotFound())
	}
	return toChannel(row).Channel, nil
}

// Update changes a live channel. Guarded by notification:write. Errors:
// resource.not_found, validation_failed, resource.conflict (the name is taken).
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in UpdateInput) (Channel, error) {
	var row dbq.NotificationChannel
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.NotifyChannelGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		next := toChannel(cur)
		var changed []string
		if in.Name != nil && *in.Name != next.Name {
			next.Name, changed = *in.Name, append(changed, "name")
		}
		if in.Enabled != nil && *in.Enabled != next.Enabled {
			next.Enabled, changed = *in.Enabled, append(changed, "enabled")
		}
		if in.Config != nil {
			next.Config, changed = *in.Config, append(changed, "config")
		}
		if in.Routing != nil {
			next.Routing, changed = *in.Routing, append(changed, "routing")
		}
		if err := s.check(next.Name, next.Type, &next.Config, &next.Routing); err != nil {
			return err
		}
		sealed := next.sealed
		switch {
		case in.Secret != nil && *in.Secret != "":
			if sealed, err = s.sealer.Seal([]byte(*in.Secret), secretColumn.AD(id)); err != nil {
				return apperr.Internal(err)
			}
			changed = append(changed, "secret")
		case in.ClearSecret && sealed != nil:
			sealed = nil
			changed = append(changed, "secret")
		}
		cfg, err := json.Marshal(next.Config)
		if err != nil {
			return apperr.Internal(err)
		}
		row, err = q.NotifyChannelUpdate(ctx, dbq.NotifyChannelUpdateParams{
			ID: id, Name: next.Name, Enabled: next.Enabled, Config: cfg, SecretSealed: sealed,
			MinSeverity: next.Routing.MinSeverity, AlertTypes: nonNil(next.Routing.AlertTypes),
			HostTags: nonNil(next.Routing.HostTags), GroupIds: nonNil(next.Routing.GroupIDs), Now: s.opts.Now(),
		})
		if err != nil {
			return writeErr(err)
		}
		if changed == nil {
			changed = []string{}
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionNotificationChannelUpdated,
			"notification_channel", id.String(), auditDetail(row, map[string]any{"changed": changed})))
	})
	if err != nil {
		return Channel{}, err
	}
	return toChannel(row).Channel, nil
}

// Delete soft-deletes a live channel; its queued deliveries find it deleted and stop.
// Guarded by notification:delete. Errors: resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.NotifyChannelGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		if _, err := q.NotifyChannelSoftDelete(ctx, dbq.NotifyChannelSoftDeleteParams{ID: id, Now: s.opts.Now()}); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionNotificationChannelDeleted,
			"notification_channel", id.String(), auditDetail(cur, nil)))
	})
}

// Test sends a test message through a live channel now and reports the outcome; nothing
// is queued. Guarded by notification:test. Errors: resource.not_found.
func (s *Service) Test(ctx context.Context, actor *authz.Principal, id uuid.UUID) (TestResult, error) {
	row, err := s.q.NotifyChannelGet(ctx, id)
	if err != nil {
		return TestResult{}, pg.NotFoundAs(err, errNotFound())
	}
	ch := toChannel(row)
	n := Notice{Transition: "test", Severity: "info", AlertType: "test",
		Title: "OpenWatch test notification", Body: "This is a test message from OpenWatch to the channel " + ch.Name + "."}
	start := time.Now()
	sendErr := s.deliver(ctx, ch, n, uuid.Nil)
	res := TestResult{Delivered: sendErr == nil, Duration: time.Since(start)}
	if sendErr != nil {
		res.Error = sendErr.Error()
	}
	detail := map[string]any{"name": ch.Name, "type": ch.Type, "delivered": res.Delivered}
	if res.Error != "" {
		detail["error"] = res.Error
	}
	if err := s.audit.AppendAlone(ctx, audit.For(ctx, actor, audit.ActionNotificationChannelTested,
		"notification_channel", id.String(), detail)); err != nil {
		return TestResult{}, err
	}
	return res, nil
}

// deliver opens ch's secret and sends n through it once.
func (s *Service) deliver(ctx context.Context, ch channel, n Notice, deliveryID uuid.UUID) error {
	var secret []byte
	if ch.sealed != nil {
		var err error
		if secret, err = s.sealer.Open(ch.sealed, secretColumn.AD(ch.ID)); err != nil {
			return fmt.Errorf("open the channel secret: %w", err)
		}
	}
	err := s.send.send(ctx, ch, secret, render(n, deliveryID, s.opts.Now()))
	if s.opts.Delivered != nil {
		s.opts.Delivered(ch.Type, err == nil)
	}
	return err
}

// render builds the message of a notice: the webhook's JSON, and for people (mail, Slack)
// a subject that says what happened and a body that ends with the facts to act on.
func render(n Notice, deliveryID uuid.UUID, at time.Time) message {
	payload := map[string]any{
		"event": "alert." + n.Transition, "transition": n.Transition, "severity": n.Severity,
		"alert_type": n.AlertType, "title": n.Title, "body": n.Body, "sent_at": at.UTC().Format(time.RFC3339),
	}
	facts := []string{"Severity: " + n.Severity, "Alert type: " + n.AlertType}
	if deliveryID != uuid.Nil {
		payload["delivery_id"] = deliveryID.String()
	}
	if n.AlertID != nil {
		payload["alert_id"] = n.AlertID.String()
		facts = append(facts, "Alert: "+n.AlertID.String())
	}
	if n.HostID != nil {
		payload["host_id"] = n.HostID.String()
		host := n.HostID.String()
		if n.Hostname != nil {
			payload["hostname"] = *n.Hostname
			host = *n.Hostname + " (" + host + ")"
		}
		facts = append(facts, "Host: "+host)
	}
	if n.RuleID != nil {
		payload["rule_id"] = *n.RuleID
		facts = append(facts, "Rule: "+*n.RuleID)
	}
	body, _ := json.Marshal(payload)
	title := n.Title
	switch n.Transition {
	case "resolved":
		title = "Resolved: " + title
	case "unsilenced":
		title = "Active again: " + title
	}
	text := strings.TrimSpace(n.Body)
	if text != "" {
		text += "\n\n"
	}
	text += strings.Join(facts, "\n")
	return message{Title: title, Body: text, JSON: body}
}

// EnqueueTx queues n for every enabled channel whose routing matches it, inside the
// caller's transaction: one delivery row and one job per channel (a suppressed notice
// gets skipped rows and no jobs). It returns how many channels matched. It publishes a
// notification.queued event, which holds the event log's lock until commit: call it after
// the transaction's other row locks are taken.
func (s *Service) EnqueueTx(ctx context.Context, tx pgx.Tx, n Notice) (int, error) {
	q := dbq.New(tx)
	chans, err := q.NotifyChannelListEnabled(ctx)
	if err != nil {
		return 0, pg.Translate(err)
	}
	var group *uuid.UUID
	if n.HostID != nil {
		groups, err := q.NotifyHostGroup(ctx, *n.HostID)
		if err != nil {
			return 0, pg.Translate(err)
		}
		if len(groups) > 0 {
			group = groups[0]
		}
	}
	matched, queued, err := s.enqueue(ctx, tx, chans, n, group)
	if err != nil {
		return 0, err
	}
	return matched, publishQueued(ctx, tx, queued)
}

// enqueue records n's deliveries to the channels of chans that take it (n's host in
// group) and queues their jobs. It returns how many channels matched and how many
// deliveries were queued (none for a suppressed notice).
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, chans []dbq.NotificationChannel, n Notice, group *uuid.UUID) (matched, queued int, err error) {
	q := dbq.New(tx)
	var payload []byte
	for _, c := range chans {
		if !matches(c, n, group) {
			continue
		}
		if payload == nil {
			if payload, err = json.Marshal(n); err != nil {
				return 0, 0, apperr.Internal(err)
			}
		}
		matched++
		id, err := uuid.NewV7()
		if err != nil {
			return 0, 0, apperr.Internal(err)
		}
		status := StatusPending
		if n.Suppressed {
			status = StatusSkipped
		}
		if _, err := q.NotifyDeliveryInsert(ctx, dbq.NotifyDeliveryInsertParams{ID: id, ChannelID: c.ID, AlertID: n.AlertID,
			Transition: n.Transition, Severity: n.Severity, Title: n.Title, Payload: payload, Status: status, Now: s.opts.Now()}); err != nil {
			return 0, 0, pg.Translate(err)
		}
		if !n.Suppressed {
			if err := s.insertJob(ctx, tx, id, c.ID); err != nil {
				return 0, 0, err
			}
			queued++
		}
	}
	return matched, queued, nil
}

// publishQueued announces on the notifications topic that n deliveries were queued.
func publishQueued(ctx context.Context, tx pgx.Tx, n int) error {
	if n == 0 {
		return nil
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicNotifications, Type: EventDeliveryQueued,
		Permission: authz.PermNotifyRead, Data: map[string]any{"deliveries": n}})
	return err
}

// oneJobPerDelivery keeps a delivery to one job until that job ends: redelivering a
// failed delivery whose job still waits to retry queues nothing more.
var oneJobPerDelivery = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// insertJob queues the job of delivery id to channel (unless one is queued already).
func (s *Service) insertJob(ctx context.Context, tx pgx.Tx, id, channel uuid.UUID) error {
	opts := &river.InsertOpts{Queue: Queue, MaxAttempts: s.opts.MaxAttempts, UniqueOpts: oneJobPerDelivery}
	if until, held := s.busy.heldUntil(channel); held {
		opts.ScheduledAt = until // the channel's breaker is open: wait with the others
	}
	if _, err := s.jobs.InsertTx(ctx, tx, DeliverArgs{DeliveryID: id, ChannelID: channel}, opts); err != nil {
		return fmt.Errorf("queue delivery %s: %w", id, err)
	}
	return nil
}

// matches reports whether channel c takes notice n about a host in group.
func matches(c dbq.NotificationChannel, n Notice, group *uuid.UUID) bool {
	if slices.Index(severities, n.Severity) < slices.Index(severities, c.MinSeverity) {
		return false
	}
	if len(c.AlertTypes) > 0 && !slices.Contains(c.AlertTypes, n.AlertType) {
		return false
	}
	if len(c.HostTags) == 0 && len(c.GroupIds) == 0 {
		return true
	}
	for _, t := range n.Tags {
		if slices.Contains(c.HostTags, t) {
			return true
		}
	}
	return group != nil && slices.Contains(c.GroupIds, *group)
}

// ListDeliveries returns a page of deliveries, newest first, optionally of one status or
// channel. Guarded by notification:read.
func (s *Service) ListDeliveries(ctx context.Context, status *string, channelID *uuid.UUID, page cursor.Request[uuid.UUID]) (cursor.Page[Delivery], error) {
	rows, err := s.q.NotifyDeliveryList(ctx, dbq.NotifyDeliveryListParams{Status: status, ChannelID: channelID,
		After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Delivery]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(r Delivery) uuid.UUID { return r.ID }), nil
}

// Redeliver queues a failed or dead delivery again. Guarded by notification:write.
// Errors: resource.not_found, resource.conflict (the delivery is not failed or dead, or
// its channel is deleted).
func (s *Service) Redeliver(ctx context.Context, actor *authz.Principal, id uuid.UUID) (Delivery, error) {
	var row Delivery
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.NotifyDeliveryGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, apperr.NotFound("The delivery does not exist."))
		}
		if cur.Status != StatusDead && cur.Status != StatusFailed {
			return apperr.Conflict(fmt.Sprintf("The delivery is %s; only failed or dead deliveries can be redelivered.", cur.Status))
		}
		if _, err := q.NotifyChannelGet(ctx, cur.ChannelID); err != nil {
			return pg.NotFoundAs(err, apperr.Conflict("The delivery's channel was deleted."))
		}
		if cur.ReportID != nil && s.reportRequeue == nil {
			return apperr.Conflict("Report deliveries cannot be sent again on this server.")
		}
		if row, err = q.NotifyDeliveryRequeue(ctx, dbq.NotifyDeliveryRequeueParams{ID: id, Now: s.opts.Now()}); err != nil {
			return pg.Translate(err)
		}
		if cur.ReportID != nil {
			// A report delivery is sent by the report package, which attaches the export.
			if err := s.reportRequeue(ctx, tx, id, *cur.ReportID, cur.ChannelID); err != nil {
				return err
			}
		} else if err := s.insertJob(ctx, tx, id, cur.ChannelID); err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionNotificationRedelivered,
			"notification_delivery", id.String(), map[string]any{"channel_id": cur.ChannelID.String(), "previous_status": cur.Status})); err != nil {
			return err
		}
		// Last, as everywhere: the event log's lock is taken after every other lock.
		return publishQueued(ctx, tx, 1)
	})
	return row, err
}

// check validates and normalizes a channel's fields.
func (s *Service) check(name, typ string, cfg *Config, r *Routing) error {
	if strings.TrimSpace(name) == "" || len(name) > 128 {
		return apperr.Invalid("name", "The name must be 1 to 128 characters.")
	}
	if r.MinSeverity == "" {
		r.MinSeverity = "info"
	}
	if !slices.Contains(severities, r.MinSeverity) {
		return apperr.Invalid("routing.min_severity", "The minimum severity must be one of info, low, medium, high, critical.")
	}
	switch typ {
	case TypeWebhook, TypeSlack:
		*cfg = Config{URL: cfg.URL}
		return s.checkURL(cfg.URL)
	case TypeEmail:
		*cfg = Config{SMTPHost: cfg.SMTPHost, SMTPPort: cfg.SMTPPort, TLSMode: cfg.TLSMode, Username: cfg.Username, From: cfg.From, To: cfg.To}
		return s.checkEmail(cfg)
	}
	return apperr.Invalid("type", "The type must be webhook, slack or email.")
}

// checkURL wants an absolute http(s) URL whose host, when it is an address, the guard allows.
func (s *Service) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return apperr.Invalid("config.url", "The URL must be an absolute http or https URL.")
	}
	if u.User != nil {
		return apperr.Invalid("config.url", "The URL must not carry a user name or password.")
	}
	return s.checkHost("config.url", u.Hostname())
}

// checkHost refuses a host given as an address the guard does not allow (names are
// checked when they are dialled).
func (s *Service) checkHost(field, host string) error {
	if a, err := netip.ParseAddr(host); err == nil && !s.opts.Guard.Permits(a) {
		return apperr.Invalid(field, "Notifications may not be sent to this address.")
	}
	return nil
}

// checkEmail validates an email channel's settings.
func (s *Service) checkEmail(cfg *Config) error {
	if cfg.SMTPHost == "" || strings.ContainsAny(cfg.SMTPHost, " /@\r\n") {
		return apperr.Invalid("config.smtp_host", "The SMTP host must be a host name or an address.")
	}
	if err := s.checkHost("config.smtp_host", cfg.SMTPHost); err != nil {
		return err
	}
	if cfg.SMTPPort < 1 || cfg.SMTPPort > 65535 {
		return apperr.Invalid("config.smtp_port", "The SMTP port must be between 1 and 65535.")
	}
	if cfg.TLSMode == "" {
		cfg.TLSMode = TLSStartTLS
	}
	if !slices.Contains([]string{TLSNone, TLSStartTLS, TLSImplicit}, cfg.TLSMode) {
		return apperr.Invalid("config.tls_mode", "The TLS mode must be none, starttls or tls.")
	}
	if a, err := mail.ParseAddress(cfg.From); err != nil || a.Name != "" {
		return apperr.Invalid("config.from", "The sender must be one plain email address.")
	}
	if len(cfg.To) == 0 {
		return apperr.Invalid("config.to", "Give at least one recipient.")
	}
	for _, to := range cfg.To {
		if a, err := mail.ParseAddress(to); err != nil || a.Name != "" {
			return apperr.Invalid("config.to", "Each recipient must be one plain email address.")
		}
	}
	return nil
}

// writeErr translates an error of writing a channel: the unique index is on the name.
func writeErr(err error) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return &apperr.Error{Code: apperr.CodeConflict, Message: "A notification channel with this name exists.",
			Detail: map[string]any{"field": "name"}, Err: err}
	}
	return err
}

// auditDetail is the audit detail of a change to row: never its secret.
func auditDetail(row dbq.NotificationChannel, extra map[string]any) map[string]any {
	d := map[string]any{"name": row.Name, "type": row.Type, "enabled": row.Enabled, "secret_set": row.SecretSealed != nil}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// toChannel decodes a stored channel.
func toChannel(row dbq.NotificationChannel) channel {
	var cfg Config
	_ = json.Unmarshal(row.Config, &cfg)
	return channel{Channel: Channel{
		ID: row.ID, Name: row.Name, Type: row.Type, Enabled: row.Enabled, Config: cfg, SecretSet: row.SecretSealed != nil,
		Routing:   Routing{MinSeverity: row.MinSeverity, AlertTypes: row.AlertTypes, HostTags: row.HostTags, GroupIDs: row.GroupIds},
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}, sealed: row.SecretSealed}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
