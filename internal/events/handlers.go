package events

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the event stream operations.
type Handlers struct {
	broker    *Broker
	tickets   *Tickets
	logger    *slog.Logger
	heartbeat time.Duration
	reload    Reloader
}

// Reloader returns the current principal behind p (its session or API token, with the
// roles it holds now), or an error when the credential ended.
type Reloader func(ctx context.Context, p *authz.Principal) (*authz.Principal, error)

// HandlerOptions tune the stream handlers; zero values take the defaults.
type HandlerOptions struct {
	// Heartbeat is how often an idle stream sends a comment line and re-checks its caller
	// (default Heartbeat).
	Heartbeat time.Duration
	// Reloader, when set, makes every open stream reload its caller at each heartbeat: a
	// stream ends when the caller's session or token ends or loses activity:read, and
	// follows permission changes in between.
	Reloader Reloader
	Logger   *slog.Logger
}

// NewHandlers returns the handlers over the process's broker and the ticket service.
func NewHandlers(broker *Broker, tickets *Tickets, opts HandlerOptions) *Handlers {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = Heartbeat
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handlers{broker: broker, tickets: tickets, logger: opts.Logger, heartbeat: opts.Heartbeat, reload: opts.Reloader}
}

func errNoPrincipal() error {
	return apperr.New(apperr.CodeAuthRequired, "Authentication is required to follow the event stream.")
}

// StreamEvents implements GET /events (activity:read): Server-Sent Events of the topics
// asked for, filtered by the caller's permissions, resuming after Last-Event-ID (the
// header, else the last_event_id parameter) when given.
func (h *Handlers) StreamEvents(ctx context.Context, req api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	p := authz.PrincipalFrom(ctx)
	if p == nil {
		return nil, errNoPrincipal()
	}
	after, err := lastEventID(req.Params)
	if err != nil {
		return nil, err
	}
	var current atomic.Pointer[authz.Principal]
	current.Store(p)
	can := func(permission string) bool { return current.Load().Can(permission) }
	st, err := h.broker.Subscribe(ctx, Filter{Topics: parseTopics(req.Params.Topics), Can: can}, after)
	if err != nil {
		return nil, err
	}
	if h.reload != nil {
		st.RecheckEvery(func(ctx context.Context) error {
			now, err := h.reload(ctx, current.Load())
			if apperr.Is(err, apperr.CodeUnavailable) {
				return nil // the database is briefly away: keep streaming, check again later
			}
			if err != nil || !now.Can(authz.PermActivity) {
				return ErrRevoked
			}
			current.Store(now)
			return nil
		})
	}
	return &streamResponse{ctx: ctx, st: st, h: h}, nil
}

// CreateEventTicket implements POST /events:ticket (activity:read).
func (h *Handlers) CreateEventTicket(ctx context.Context, _ api.CreateEventTicketRequestObject) (api.CreateEventTicketResponseObject, error) {
	ticket, expires, err := h.tickets.Issue(ctx, authz.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateEventTicket201JSONResponse{Ticket: ticket, ExpiresAt: expires.UTC()}, nil
}

// lastEventID returns the id to resume after, or nil for a fresh stream.
func lastEventID(p api.StreamEventsParams) (*int64, error) {
	raw, field := p.LastEventID, "Last-Event-ID"
	if raw == nil {
		raw, field = p.LastEventId, "last_event_id"
	}
	if raw == nil {
		return nil, nil
	}
	id, err := strconv.ParseInt(*raw, 10, 64)
	if err != nil || id < 0 {
		return nil, apperr.Invalid(field, field+" must be an event id received from this stream.")
	}
	return &id, nil
}

// parseTopics splits the topics parameter (already validated against the spec's
// pattern); nil means every topic.
func parseTopics(s *string) []Topic {
	if s == nil || *s == "" {
		return nil
	}
	var out []Topic
	for _, t := range strings.Split(*s, ",") {
		if !containsTopic(out, Topic(t)) {
			out = append(out, Topic(t))
		}
	}
	return out
}

func containsTopic(ts []Topic, t Topic) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// streamResponse writes the event stream when the strict handler visits it; it runs in
// the request's goroutine until the client leaves or the server shuts down.
type streamResponse struct {
	ctx context.Context
	st  *Stream
	h   *Handlers
}

func (r *streamResponse) VisitStreamEventsResponse(w http.ResponseWriter) error {
	defer r.st.Close()
	rc := http.NewResponseController(w)
	// A stream outlives any write timeout of the server on purpose (net/http already
	// clears the read deadline once the request is read). Not every writer supports
	// deadlines; then there is nothing to clear.
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	err := r.st.Pump(r.ctx, sink{w: w, rc: rc}, r.h.heartbeat)
	switch {
	case err == nil, r.ctx.Err() != nil:
	case errors.Is(err, ErrShutdown), errors.Is(err, ErrTooSlow), errors.Is(err, ErrRevoked):
		r.h.logger.InfoContext(r.ctx, "event stream ended by the server", slog.String("reason", err.Error()))
	default:
		r.h.logger.WarnContext(r.ctx, "event stream failed", slog.Any("error", err))
	}
	// The status and headers are sent: a failure can only end the stream.
	return nil
}

// sink adapts a response writer to Sink.
type sink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s sink) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s sink) Flush() error                { return s.rc.Flush() }
