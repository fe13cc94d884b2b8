package host_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func generatedQuery(t *testing.T, file, name string) string {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	obj := f.Scope.Lookup(name)
	require.NotNil(t, obj)
	text, err := strconv.Unquote(obj.Decl.(*ast.ValueSpec).Values[0].(*ast.BasicLit).Value)
	require.NoError(t, err)
	return text
}

// TestEveryListFilterUsesAnIndex plans HostList (the query sqlc generated) for every filter
// on 30,000 hosts and shows none of them scans the hosts table.
func TestEveryListFilterUsesAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := host.Seed(ctx, pool, 30000, 300)
	require.NoError(t, err)
	var groupID, someID uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `SELECT group_id, id FROM hosts WHERE group_id IS NOT NULL ORDER BY id OFFSET 15000 LIMIT 1`).Scan(&groupID, &someID))
	query := generatedQuery(t, "../../gen/db/hosts.sql.gen.go", "hostList")
	str := func(s string) *string { return &s }
	yes := true
	// Parameters in order: after, environment, tag, group_id, q, maintenance, row_limit.
	cases := map[string][]any{
		"first page":  {nil, nil, nil, nil, nil, nil, 51},
		"deep page":   {someID, nil, nil, nil, nil, nil, 51},
		"environment": {nil, str("staging"), nil, nil, nil, nil, 51},
		"tag":         {nil, nil, str("debian12"), nil, nil, nil, 51},
		"group":       {nil, nil, nil, groupID, nil, nil, 51},
		"search":      {nil, nil, nil, nil, str("012345"), nil, 51},
		"search ip":   {nil, nil, nil, nil, str("127.1.48."), nil, 51},
		"maintenance": {nil, nil, nil, nil, nil, &yes, 51},
		"combined":    {someID, str("production"), str("web"), nil, nil, nil, 51},
	}
	for name, args := range cases {
		var raw []byte
		require.NoError(t, pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw), name)
		var plan any
		require.NoError(t, json.Unmarshal(raw, &plan))
		text := string(raw)
		require.NotContains(t, scans(plan), "Seq Scan on hosts", "%s: %s", name, text)
		require.True(t, strings.Contains(text, "Index"), "%s uses an index: %s", name, text)
	}
}

// scans lists "Node Type on Relation" for every plan node.
func scans(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if nt, ok := x["Node Type"].(string); ok {
			rel, _ := x["Relation Name"].(string)
			out = append(out, nt+" on "+rel)
		}
		for _, c := range x {
			out = append(out, scans(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, scans(c)...)
		}
	}
	return out
}
