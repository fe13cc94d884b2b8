package scan

// Temporary: the host compliance and trend operations, until they are built (this file is
// then deleted).

import (
	"context"
	"errors"

	api "github.com/openwatch/openwatch/gen/api"
)

func (h *Handlers) GetHostCompliance(context.Context, api.GetHostComplianceRequestObject) (api.GetHostComplianceResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) GetHostComplianceTrend(context.Context, api.GetHostComplianceTrendRequestObject) (api.GetHostComplianceTrendResponseObject, error) {
	return nil, errors.New("not built yet")
}

func (h *Handlers) GetFleetComplianceTrend(context.Context, api.GetFleetComplianceTrendRequestObject) (api.GetFleetComplianceTrendResponseObject, error) {
	return nil, errors.New("not built yet")
}
