package host

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// OS is the operating system identity that discovery copies onto a host.
type OS struct {
	Family             *string
	Version            *string
	Architecture       *string
	PlatformIdentifier *string
	DiscoveredAt       time.Time
}

// SetOS copies discovered OS fields onto a live host inside tx (the discovery's
// transaction). The host row is written only when a field changed or the host was never
// discovered; it reports whether it was. List caches are cleared when tx commits (the
// inventory trigger's notification reaches every process, this one included).
func (s *Service) SetOS(ctx context.Context, tx pgx.Tx, id uuid.UUID, os OS) (bool, error) {
	at := os.DiscoveredAt
	n, err := dbq.New(tx).IntelHostSetOS(ctx, dbq.IntelHostSetOSParams{
		ID: id, OsFamily: os.Family, OsVersion: os.Version, Architecture: os.Architecture,
		PlatformIdentifier: os.PlatformIdentifier, DiscoveredAt: &at,
	})
	if err != nil {
		return false, pg.Translate(err)
	}
	return n > 0, nil
}
