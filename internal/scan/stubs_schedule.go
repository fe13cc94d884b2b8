package scan

// Temporary: the scheduler's operations, until they are built (this file is then deleted).

import (
	"context"
	"errors"

	api "github.com/openwatch/openwatch/gen/api"
)

func (h *Handlers) GetScanConfig(context.Context, api.GetScanConfigRequestObject) (api.GetScanConfigResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) PutScanConfig(context.Context, api.PutScanConfigRequestObject) (api.PutScanConfigResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) GetScanSchedulePreview(context.Context, api.GetScanSchedulePreviewRequestObject) (api.GetScanSchedulePreviewResponseObject, error) {
	return nil, errors.New("not built yet")
}
