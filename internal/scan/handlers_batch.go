package scan

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
)

// StartScanBatch implements POST /scan-batches (scan:execute).
func (h *Handlers) StartScanBatch(ctx context.Context, req api.StartScanBatchRequestObject) (api.StartScanBatchResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Invalid("selector", "Name the hosts to scan: give one of host_ids, group_id, filter and all.")
	}
	b, err := h.svc.StartBatch(ctx, fromScanBatchRequest(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.StartScanBatch202JSONResponse(toScanBatch(b)), nil
}

// ListScanBatches implements GET /scan-batches (scan:read).
func (h *Handlers) ListScanBatches(ctx context.Context, req api.ListScanBatchesRequestObject) (api.ListScanBatchesResponseObject, error) {
	p := req.Params
	var status *string
	if p.Status != nil {
		st := string(*p.Status)
		status = &st
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListScanBatchesPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[Batch], error) {
			return h.svc.ListBatches(ctx, status, r)
		}, toScanBatch)
	if err != nil {
		return nil, err
	}
	return api.ListScanBatches200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetScanBatch implements GET /scan-batches/{id} (scan:read).
func (h *Handlers) GetScanBatch(ctx context.Context, req api.GetScanBatchRequestObject) (api.GetScanBatchResponseObject, error) {
	b, err := h.svc.GetBatch(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetScanBatch200JSONResponse(toScanBatch(b)), nil
}

// CancelScanBatch implements POST /scan-batches/{id}:cancel (scan:cancel).
func (h *Handlers) CancelScanBatch(ctx context.Context, req api.CancelScanBatchRequestObject) (api.CancelScanBatchResponseObject, error) {
	b, err := h.svc.CancelBatch(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.CancelScanBatch200JSONResponse(toScanBatch(b)), nil
}
