package scan

import (
	"context"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
)

// Completed returns a completed scan and all its results, sorted by rule id, for an export
// of the whole scan (package oscal). Guarded by scan:read. Errors: resource.not_found for an
// unknown scan, conflict while it has not completed.
func (s *Service) Completed(ctx context.Context, id uuid.UUID) (dbq.Scan, []Result, error) {
	sc, err := s.Get(ctx, id)
	if err != nil {
		return dbq.Scan{}, nil, err
	}
	if sc.Status != "completed" || sc.FinishedAt == nil {
		return dbq.Scan{}, nil, apperr.Conflict("The scan has not completed; only a completed scan has results to export.")
	}
	rs, err := s.results(ctx, sc, nil)
	if err != nil {
		return dbq.Scan{}, nil, err
	}
	return sc, rs, nil
}
