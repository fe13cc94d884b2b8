package notify

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the notification operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the notification handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListNotificationChannels implements GET /notifications/channels (notification:read).
func (h *Handlers) ListNotificationChannels(ctx context.Context, req api.ListNotificationChannelsRequestObject) (api.ListNotificationChannelsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListNotificationChannelsPageLimit()),
		h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListNotificationChannels200JSONResponse{Channels: page.Items, NextCursor: page.Next}, nil
}

// CreateNotificationChannel implements POST /notifications/channels (notification:write).
func (h *Handlers) CreateNotificationChannel(ctx context.Context, req api.CreateNotificationChannelRequestObject) (api.CreateNotificationChannelResponseObject, error) {
	b := req.Body
	in := CreateInput{Name: b.Name, Type: string(b.Type), Enabled: b.Enabled == nil || *b.Enabled,
		Config: fromAPIConfig(b.Config), Routing: fromAPIRouting(b.Routing)}
	if b.Secret != nil {
		in.Secret = *b.Secret
	}
	c, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateNotificationChannel201JSONResponse(toAPI(c)), nil
}

// GetNotificationChannel implements GET /notifications/channels/{id} (notification:read).
func (h *Handlers) GetNotificationChannel(ctx context.Context, req api.GetNotificationChannelRequestObject) (api.GetNotificationChannelResponseObject, error) {
	c, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetNotificationChannel200JSONResponse(toAPI(c)), nil
}

// UpdateNotificationChannel implements PATCH /notifications/channels/{id} (notification:write).
func (h *Handlers) UpdateNotificationChannel(ctx context.Context, req api.UpdateNotificationChannelRequestObject) (api.UpdateNotificationChannelResponseObject, error) {
	b := req.Body
	in := UpdateInput{Name: b.Name, Enabled: b.Enabled, Secret: b.Secret, ClearSecret: b.ClearSecret != nil && *b.ClearSecret}
	if b.Config != nil {
		cfg := fromAPIConfig(*b.Config)
		in.Config = &cfg
	}
	if b.Routing != nil {
		r := fromAPIRouting(b.Routing)
		in.Routing = &r
	}
	c, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateNotificationChannel200JSONResponse(toAPI(c)), nil
}

// DeleteNotificationChannel implements DELETE /notifications/channels/{id} (notification:delete).
func (h *Handlers) DeleteNotificationChannel(ctx context.Context, req api.DeleteNotificationChannelRequestObject) (api.DeleteNotificationChannelResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteNotificationChannel204Response{}, nil
}

// TestNotificationChannel implements POST /notifications/channels/{id}:test (notification:test).
func (h *Handlers) TestNotificationChannel(ctx context.Context, req api.TestNotificationChannelRequestObject) (api.TestNotificationChannelResponseObject, error) {
	r, err := h.svc.Test(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := api.TestNotificationChannel200JSONResponse{Outcome: api.NotificationTestResultOutcome(StatusDelivered),
		DurationMs: r.Duration.Milliseconds()}
	if !r.Delivered {
		out.Outcome = api.NotificationTestResultOutcome(StatusFailed)
		out.Error = &r.Error
	}
	return out, nil
}

// ListNotificationDeliveries implements GET /notifications/deliveries (notification:read).
func (h *Handlers) ListNotificationDeliveries(ctx context.Context, req api.ListNotificationDeliveriesRequestObject) (api.ListNotificationDeliveriesResponseObject, error) {
	p := req.Params
	var status *string
	if p.Status != nil {
		s := string(*p.Status)
		status = &s
	}
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListNotificationDeliveriesPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[Delivery], error) {
			return h.svc.ListDeliveries(ctx, status, p.ChannelId, r)
		}, toAPIDelivery)
	if err != nil {
		return nil, err
	}
	return api.ListNotificationDeliveries200JSONResponse{Deliveries: page.Items, NextCursor: page.Next}, nil
}

// RedeliverNotification implements POST /notifications/deliveries/{id}:redeliver (notification:write).
func (h *Handlers) RedeliverNotification(ctx context.Context, req api.RedeliverNotificationRequestObject) (api.RedeliverNotificationResponseObject, error) {
	d, err := h.svc.Redeliver(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.RedeliverNotification202JSONResponse(toAPIDelivery(d)), nil
}

// ListNotificationFeed implements GET /notifications/feed (account:self).
func (h *Handlers) ListNotificationFeed(ctx context.Context, req api.ListNotificationFeedRequestObject) (api.ListNotificationFeedResponseObject, error) {
	p := req.Params
	unread := 0
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListNotificationFeedPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[FeedEntry], error) {
			fp, n, err := h.svc.Feed(ctx, authz.PrincipalFrom(ctx), p.Unread != nil && *p.Unread, r)
			unread = n
			return fp, err
		}, toAPIFeedItem)
	if err != nil {
		return nil, err
	}
	return api.ListNotificationFeed200JSONResponse{Items: page.Items, NextCursor: page.Next, UnreadCount: unread}, nil
}

// MarkFeedItemRead implements POST /notifications/feed/{id}:read (account:self).
func (h *Handlers) MarkFeedItemRead(ctx context.Context, req api.MarkFeedItemReadRequestObject) (api.MarkFeedItemReadResponseObject, error) {
	if err := h.svc.MarkRead(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.MarkFeedItemRead204Response{}, nil
}

// MarkFeedRead implements POST /notifications/feed:read-all (account:self).
func (h *Handlers) MarkFeedRead(ctx context.Context, _ api.MarkFeedReadRequestObject) (api.MarkFeedReadResponseObject, error) {
	if err := h.svc.MarkAllRead(ctx, authz.PrincipalFrom(ctx)); err != nil {
		return nil, err
	}
	return api.MarkFeedRead204Response{}, nil
}
