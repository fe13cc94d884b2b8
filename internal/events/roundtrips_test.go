package events

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestPublishIsOneRoundTrip: in a pg.WithTx transaction an event costs one round trip
// (the publish lock travels ahead of its insert, its notification with COMMIT), so a
// batch of state changes (the liveness poller's) does not pay three per event; the
// events still reach a listening broker.
func TestPublishIsOneRoundTrip(t *testing.T) {
	log := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, log, 4)
	b := startBroker(t, pool)
	ctx := context.Background()
	s, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s.Close()
	log.Take("")

	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for _, typ := range []string{"first.event", "second.event"} {
			if _, err := Publish(ctx, tx, ev(TopicLiveness, typ, authz.PermHostRead)); err != nil {
				return err
			}
		}
		return nil
	}))
	var sent []string
	for _, rt := range log.Take("") {
		if strings.Contains(rt, "EventInsert") || strings.Contains(rt, "COMMIT") {
			sent = append(sent, rt)
		}
	}
	require.Len(t, sent, 3, "%q", sent)
	require.Regexp(t, `^\[BEGIN \| -- name: EventsLockPublish .* \| -- name: EventInsert .*\]$`, strings.ReplaceAll(sent[0], "\n", " "))
	require.Regexp(t, `^\[-- name: EventsLockPublish .* \| -- name: EventInsert .*\]$`, strings.ReplaceAll(sent[1], "\n", " "))
	require.Regexp(t, `^\[-- name: EventNotify .* \| -- name: EventNotify .* \| COMMIT\]$`, strings.ReplaceAll(sent[2], "\n", " "))
	require.Equal(t, "first.event", next(t, s).Type)
	require.Equal(t, "second.event", next(t, s).Type)
}
