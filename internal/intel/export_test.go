package intel

import (
	"context"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
)

// LockKey exposes the advisory lock key of (kind, host) to the tests.
var LockKey = lockKey

// ScheduleTick runs one scheduler tick.
func (s *Service) ScheduleTick(ctx context.Context) error { return s.scheduleTick(ctx) }

// StoreValues stores a collection whose categories have the given values (the others
// failed with failure), as the end of a collection job does.
func (s *Service) StoreValues(ctx context.Context, hostID uuid.UUID, values map[string]any, failure error) (State, []dbq.IntelligenceEvent, error) {
	outcomes := map[string]outcome{}
	for _, c := range Categories {
		if v, ok := values[c]; ok {
			outcomes[c] = outcome{value: v}
		} else {
			outcomes[c] = outcome{err: failure}
		}
	}
	return s.storeCollection(ctx, nil, hostID, outcomes, Stats{})
}
