package cursor

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

var bounds = Limits{Default: 3, Min: 1, Max: 5}

func TestRoundTrip(t *testing.T) {
	id := uuid.New()
	c := ByID{}.Encode(id)
	r, err := Parse(ByID{}, &c, nil, bounds)
	require.NoError(t, err)
	require.Equal(t, id, *r.After)
	require.Equal(t, 3, r.Limit)

	k := TimeID{At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: id}
	c = ByTime{}.Encode(k)
	got, err := ByTime{}.Decode(c)
	require.NoError(t, err)
	require.True(t, k.At.Equal(got.At))
	require.Equal(t, k.ID, got.ID)
}

func TestParseFirstPage(t *testing.T) {
	empty := ""
	for _, c := range []*string{nil, &empty} {
		r, err := Parse(BySeq{}, c, nil, bounds)
		require.NoError(t, err)
		require.Nil(t, r.After)
		require.Equal(t, int32(4), r.Fetch(), "one row more than the page")
	}
}

func TestMalformedCursor(t *testing.T) {
	for _, bad := range []string{"%%%", "bm90LWpzb24", ByID{}.Encode(uuid.New())[:10], "eyJ2IjoyLCJrIjoiMSJ9", BySeq{}.Encode(7)} {
		_, err := Parse(ByID{}, &bad, nil, bounds)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), bad)
		require.Contains(t, err.Error(), "cursor", bad)
	}
}

func TestLimitOutOfBounds(t *testing.T) {
	for _, n := range []int{-1, 0, 6, 1000} {
		_, err := Parse(ByID{}, nil, &n, bounds)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), strconv.Itoa(n))
		require.Contains(t, err.Error(), "limit")
	}
	for _, n := range []int{1, 5} {
		r, err := Parse(ByID{}, nil, &n, bounds)
		require.NoError(t, err)
		require.Equal(t, n, r.Limit)
	}
}

// TestCutFollowsEveryRow pages through a list with Cut and Parse and sees every row once,
// with a cursor exactly when more rows follow.
func TestCutFollowsEveryRow(t *testing.T) {
	rows := []int64{10, 9, 8, 7, 6, 5, 4}
	fetch := func(after *int64, n int32) []int64 {
		var out []int64
		for _, r := range rows {
			if (after == nil || r < *after) && int32(len(out)) < n {
				out = append(out, r)
			}
		}
		return out
	}
	for limit := 1; limit <= 5; limit++ {
		var seen []int64
		var c *string
		for range 10 {
			r, err := Parse(BySeq{}, c, &limit, bounds)
			require.NoError(t, err)
			page := Cut(r, fetch(r.After, r.Fetch()), func(v int64) int64 { return v })
			require.LessOrEqual(t, len(page.Items), limit)
			seen = append(seen, page.Items...)
			if page.Next == nil {
				break
			}
			c = page.Next
		}
		require.Equal(t, rows, seen, "limit %d", limit)
	}
}

func TestMapKeepsCursor(t *testing.T) {
	next := "x"
	p := Map(Page[int]{Items: []int{1, 2}, Next: &next}, strconv.Itoa)
	require.Equal(t, []string{"1", "2"}, p.Items)
	require.Equal(t, &next, p.Next)
}

func TestServe(t *testing.T) {
	ctx := context.Background()
	read := func(_ context.Context, r Request[int64]) (Page[int64], error) {
		return Cut(r, []int64{9, 8, 7, 6}, func(v int64) int64 { return v }), nil
	}
	two := 2
	page, err := Serve(ctx, BySeq{}, nil, &two, bounds, read, func(v int64) string { return strconv.FormatInt(v, 10) })
	require.NoError(t, err)
	require.Equal(t, []string{"9", "8"}, page.Items)
	require.NotNil(t, page.Next)
	bad := "%%%"
	_, err = Serve(ctx, BySeq{}, &bad, nil, bounds, read, func(v int64) int64 { return v })
	require.True(t, apperr.Is(err, apperr.CodeValidationFailed))
}
