package scan

import (
	"context"

	"github.com/google/uuid"
)

// EndScan ends a queued or running scan without results, as its worker does when the scan
// fails or is cancelled: tests end a batch's scans at the same moment with it.
func (s *Service) EndScan(ctx context.Context, id uuid.UUID, status, reason string) error {
	row, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.finishWith(ctx, row, status, reason)
}
