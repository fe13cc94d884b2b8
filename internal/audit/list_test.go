package audit_test

import (
	"encoding/base64"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// seed appends 30 events: seq i (1-based) occurs at t0 + i minutes; actions, actors,
// resources and correlation ids vary with i.
func (b *bundle) seed(t *testing.T) {
	t.Helper()
	actions := []audit.Action{audit.ActionLoginSucceeded, audit.ActionUserCreated, audit.ActionAuthzDenied}
	actors := []string{audit.ActorUser, audit.ActorServiceAccount, audit.ActorSystem, audit.ActorAnonymous, audit.ActorUser}
	for i := 1; i <= 30; i++ {
		e := audit.Event{
			Action:        actions[i%3],
			ActorType:     actors[i%5],
			CorrelationID: fmt.Sprintf("corr-%d", i%4),
			OccurredAt:    t0.Add(time.Duration(i) * time.Minute),
			Detail:        map[string]any{"i": i},
		}
		if i%2 == 0 {
			e.ResourceType, e.ResourceID = "host", fmt.Sprintf("host-%d", i%3)
		} else {
			e.ResourceType, e.ResourceID = "user", fmt.Sprintf("user-%d", i%3)
		}
		require.NoError(t, b.w.AppendAlone(b.ctx, e))
	}
}

// limits are the spec's bounds of GET /audit/events?limit.
var limits = cursor.Limits(api.ListAuditEventsPageLimit())

// list reads the page of f that c and limit (nil: the defaults) ask for.
func (b *bundle) list(f audit.Filter, c string, limit *int) (cursor.Page[audit.Stored], error) {
	r, err := cursor.Parse(b.w.Cursors(), &c, limit, limits)
	if err != nil {
		return cursor.Page[audit.Stored]{}, err
	}
	return b.w.List(b.ctx, f, r)
}

// seqs lists every matching seq, following cursors page by page (limit 0: the default).
func (b *bundle) seqs(t *testing.T, f audit.Filter, limit int) []int64 {
	t.Helper()
	var lp *int
	if limit != 0 {
		lp = &limit
	} else {
		limit = limits.Default
	}
	var out []int64
	c := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100)
		page, err := b.list(f, c, lp)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), limit)
		for _, it := range page.Items {
			out = append(out, it.Seq)
		}
		if page.Next == nil {
			return out
		}
		require.Len(t, page.Items, limit, "only the last page is short")
		c = *page.Next
	}
}

// want lists the seeded seqs matching keep, newest first.
func want(keep func(i int) bool) []int64 {
	var out []int64
	for i := 30; i >= 1; i-- {
		if keep(i) {
			out = append(out, int64(i))
		}
	}
	return out
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	since, until := t0.Add(10*time.Minute), t0.Add(20*time.Minute)

	cases := map[string]struct {
		f    audit.Filter
		keep func(i int) bool
	}{
		"all":            {audit.Filter{}, func(int) bool { return true }},
		"action":         {audit.Filter{Action: string(audit.ActionUserCreated)}, func(i int) bool { return i%3 == 1 }},
		"unknown action": {audit.Filter{Action: "nope"}, func(int) bool { return false }},
		"correlation":    {audit.Filter{CorrelationID: "corr-2"}, func(i int) bool { return i%4 == 2 }},
		"actor type":     {audit.Filter{ActorType: audit.ActorUser}, func(i int) bool { return i%5 == 0 || i%5 == 4 }},
		"resource type":  {audit.Filter{ResourceType: "host"}, func(i int) bool { return i%2 == 0 }},
		"resource id":    {audit.Filter{ResourceID: "user-1"}, func(i int) bool { return i%2 == 1 && i%3 == 1 }},
		"resource":       {audit.Filter{ResourceType: "host", ResourceID: "host-1"}, func(i int) bool { return i%2 == 0 && i%3 == 1 }},
		"since":          {audit.Filter{Since: &since}, func(i int) bool { return i >= 10 }},
		"until":          {audit.Filter{Until: &until}, func(i int) bool { return i < 20 }},
		"window":         {audit.Filter{Since: &since, Until: &until}, func(i int) bool { return i >= 10 && i < 20 }},
		"combined": {audit.Filter{Action: string(audit.ActionAuthzDenied), ResourceType: "host", Since: &since},
			func(i int) bool { return i%3 == 2 && i%2 == 0 && i >= 10 }},
	}
	for name, c := range cases {
		for _, limit := range []int{1, 4, 5, 0, 200} {
			got := b.seqs(t, c.f, limit)
			require.Equal(t, want(c.keep), got, "%s, limit %d", name, limit)
		}
	}

	thirty := 30
	page, err := b.list(audit.Filter{}, "", &thirty)
	require.NoError(t, err)
	require.Len(t, page.Items, 30)
	require.Nil(t, page.Next, "no cursor when the page ends exactly at the last event")
	page, err = b.list(audit.Filter{}, "", nil)
	require.NoError(t, err)
	require.Len(t, page.Items, 30, "default limit is %d", limits.Default)
}

func TestListRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	two := 2
	page, err := b.list(audit.Filter{}, "", &two)
	require.NoError(t, err)
	good := *page.Next
	raw, err := base64.RawURLEncoding.DecodeString(good)
	require.NoError(t, err)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	renumbered := append([]byte(nil), raw...)
	renumbered[8]++
	otherKey := make([]byte, audit.KeySize)
	other := audit.NewWriter(b.pool, otherKey, nil)
	otherPage, err := other.List(b.ctx, audit.Filter{}, cursor.First(other.Cursors(), 2))
	require.NoError(t, err)

	for name, c := range map[string]string{
		"not base64":    "!!!",
		"padded base64": good + "=",
		"short":         good[:10],
		"long":          good + "AA",
		"json":          base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"k":5}`)),
		"flipped tag":   base64.RawURLEncoding.EncodeToString(flipped),
		"edited seq":    base64.RawURLEncoding.EncodeToString(renumbered),
		"other key":     *otherPage.Next,
		"other version": base64.RawURLEncoding.EncodeToString(append([]byte{2}, raw[1:]...)),
		"standard b64":  base64.StdEncoding.EncodeToString(raw) + "+/",
	} {
		_, err := b.list(audit.Filter{}, c, nil)
		requireInvalid(t, err, "cursor", name)
	}

	for _, limit := range []int{-1, 0, 201, 1000} {
		_, err := b.list(audit.Filter{}, "", &limit)
		requireInvalid(t, err, "limit", strconv.Itoa(limit))
	}
	_, err = b.list(audit.Filter{ActorType: "robot"}, "", nil)
	requireInvalid(t, err, "actor_type", "actor type")
	since, until := t0, t0.Add(-time.Second)
	_, err = b.list(audit.Filter{Since: &since, Until: &until}, "", nil)
	requireInvalid(t, err, "until", "window")
}

func requireInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	require.Error(t, err, msg)
	require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "%s: %v", msg, err)
	require.Equal(t, field, apperr.As(err).Detail["field"], msg)
}

// TestListUsesIndexes shows with EXPLAIN that every filter of AuditEventList, on its own and
// after a cursor, is served by an index that yields rows newest first, on a table big
// enough for the planner to care. It plans the query text sqlc generated, with the
// statement-level setting List uses (plan_cache_mode = force_custom_plan).
func TestListUsesIndexes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	query := generatedQuery(t, "auditEventList")
	_, err := b.pool.Exec(b.ctx, `INSERT INTO audit_events (id, seq, occurred_at, correlation_id, action, severity,
			actor_type, actor_id, resource_type, resource_id, detail, prev_mac, mac)
		SELECT gen_random_uuid(), i, $1::timestamptz + i * interval '1 second', 'corr-' || (i % 20000),
			CASE WHEN i % 1000 = 7 THEN 'rare.action' ELSE 'action.' || (i % 10) END, 'info',
			CASE WHEN i % 100 < 90 THEN 'user' WHEN i % 100 < 98 THEN 'service_account' WHEN i % 100 < 99 THEN 'system' ELSE 'anonymous' END,
			'actor-' || (i % 500), CASE WHEN i % 1000 = 3 THEN 'rare' ELSE 'type-' || (i % 5) END,
			'res-' || (i % 10000), '{}', '\x00', '\x00'
		FROM generate_series(1, 100000) AS i`, t0)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `ANALYZE audit_events`)
	require.NoError(t, err)

	since, until := t0.Add(1000*time.Second), t0.Add(1100*time.Second)
	recent := t0.Add(99000 * time.Second)
	str := func(s string) *string { return &s }
	cursor := int64(50000)
	// Parameters in order: before_seq, action, correlation_id, actor_type, resource_type,
	// resource_id, since, until, row_limit.
	type params struct {
		before                                         *int64
		action, correlation, actorType, resType, resID *string
		since, until                                   *time.Time
	}
	// A rare value is found through its own index; a common one is cheaper to find by
	// walking seq backwards and filtering, which the planner may prefer. Either way no
	// table scan. (When few rows match, the planner may fetch them all through the index
	// and sort them, which is as cheap.)
	cases := map[string]struct {
		p     params
		index []string // any of these
	}{
		"none":                 {params{}, []string{"audit_events_seq_key"}},
		"rare action":          {params{action: str("rare.action")}, []string{"audit_events_action_seq_idx"}},
		"common action":        {params{action: str("action.3")}, []string{"audit_events_action_seq_idx", "audit_events_seq_key"}},
		"correlation":          {params{correlation: str("corr-77")}, []string{"audit_events_correlation_id_seq_idx"}},
		"rare actor type":      {params{actorType: str("anonymous")}, []string{"audit_events_actor_type_seq_idx"}},
		"common actor type":    {params{actorType: str("user")}, []string{"audit_events_actor_type_seq_idx", "audit_events_seq_key"}},
		"rare resource type":   {params{resType: str("rare")}, []string{"audit_events_resource_type_seq_idx"}},
		"common resource type": {params{resType: str("type-3")}, []string{"audit_events_resource_type_seq_idx", "audit_events_seq_key"}},
		"resource id":          {params{resID: str("res-42")}, []string{"audit_events_resource_id_seq_idx"}},
		"resource":             {params{resType: str("type-2"), resID: str("res-42")}, []string{"audit_events_resource_id_seq_idx"}},
		"past window":          {params{since: &since, until: &until}, []string{"audit_events_occurred_at_idx"}},
		"recent":               {params{since: &recent}, []string{"audit_events_seq_key", "audit_events_occurred_at_idx"}},
	}
	for name, c := range cases {
		for _, before := range []*int64{nil, &cursor} {
			p := c.p
			p.before = before
			var plan []string
			require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(b.ctx, `SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`); err != nil {
					return err
				}
				rows, err := tx.Query(b.ctx, "EXPLAIN "+query, p.before, p.action, p.correlation, p.actorType,
					p.resType, p.resID, p.since, p.until, limits.Default+1)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			}))
			text := strings.Join(plan, "\n")
			require.NotContains(t, text, "Seq Scan", "%s (cursor %v):\n%s", name, before != nil, text)
			found := false
			for _, idx := range c.index {
				found = found || strings.Contains(text, idx)
			}
			require.True(t, found, "%s (cursor %v) should use %v:\n%s", name, before != nil, c.index, text)
		}
	}
}

// generatedQuery returns the text of a query constant sqlc generated in gen/db.
func generatedQuery(t *testing.T, name string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../gen/db/audit.sql.gen.go", nil, 0)
	require.NoError(t, err)
	obj := f.Scope.Lookup(name)
	require.NotNil(t, obj, "const %s in gen/db/audit.sql.gen.go", name)
	lit, ok := obj.Decl.(*ast.ValueSpec).Values[0].(*ast.BasicLit)
	require.True(t, ok)
	text, err := strconv.Unquote(lit.Value)
	require.NoError(t, err)
	return text
}

// TestUnfilteredListIsOneStatement: a page of the whole trail is one statement on a cached
// plan, without a transaction; a filtered page plans for its filters in a transaction.
func TestUnfilteredListIsOneStatement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 5)
	sent := pgtest.NewQueryLog()
	cfg, err := pgxpool.ParseConfig(b.pool.Config().ConnString())
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = sent
	pool, err := pgxpool.NewWithConfig(b.ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	w := audit.NewWriter(pool, b.key, time.Now)

	page, err := w.List(b.ctx, audit.Filter{}, cursor.First(w.Cursors(), 2))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	first := sent.Take("")
	require.Len(t, first, 1, "%q", first)
	require.Contains(t, first[0], "AuditEventListAll")

	limit := 2
	next, err := cursor.Parse(w.Cursors(), page.Next, &limit, cursor.Limits{Default: 2, Min: 1, Max: 200})
	require.NoError(t, err)
	page2, err := w.List(b.ctx, audit.Filter{}, next)
	require.NoError(t, err)
	require.Equal(t, page.Items[1].Seq-1, page2.Items[0].Seq, "the next page follows on")
	require.Len(t, sent.Take(""), 1)

	_, err = w.List(b.ctx, audit.Filter{Action: string(audit.ActionUserCreated)}, cursor.First(w.Cursors(), 2))
	require.NoError(t, err)
	filtered := sent.Take("")
	require.Greater(t, len(filtered), 1, "%q", filtered)
}
