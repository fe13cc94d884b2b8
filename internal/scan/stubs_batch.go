package scan

// Temporary: the scan batches' operations, until they are built (this file is then deleted).

import (
	"context"
	"errors"

	api "github.com/openwatch/openwatch/gen/api"
)

func (h *Handlers) StartScanBatch(context.Context, api.StartScanBatchRequestObject) (api.StartScanBatchResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) ListScanBatches(context.Context, api.ListScanBatchesRequestObject) (api.ListScanBatchesResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) GetScanBatch(context.Context, api.GetScanBatchRequestObject) (api.GetScanBatchResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) CancelScanBatch(context.Context, api.CancelScanBatchRequestObject) (api.CancelScanBatchResponseObject, error) {
	return nil, errors.New("not built yet")
}
