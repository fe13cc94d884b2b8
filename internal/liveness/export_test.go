package liveness

import "context"

// TickWithBudget runs one tick leasing at most budget hosts, whatever the rate limit.
func (s *Service) TickWithBudget(ctx context.Context, budget int) (TickStats, error) {
	cfg, err := LoadConfig(ctx, s.pool)
	if err != nil {
		return TickStats{}, err
	}
	return s.tick(ctx, cfg, budget)
}
