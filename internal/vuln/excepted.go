package vuln

import (
	"context"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// ExceptedHosts says which of hosts an approved, unexpired exception of one of the
// advisories covers (matched by the advisory's id or any alias; on the host, its group or
// the fleet). Patch jobs from an advisory leave those hosts out.
func (s *Service) ExceptedHosts(ctx context.Context, advisoryIDs []string, hosts []uuid.UUID) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if len(advisoryIDs) == 0 || len(hosts) == 0 {
		return out, nil
	}
	ids, err := s.q.VulnExceptedHosts(ctx, dbq.VulnExceptedHostsParams{HostIds: hosts, AdvisoryIds: advisoryIDs})
	if err != nil {
		return nil, pg.Translate(err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
