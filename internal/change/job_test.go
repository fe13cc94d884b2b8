package change

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWaveSizes(t *testing.T) {
	require.Equal(t, []int{1, 2, 4, 8, 16, 19}, WaveSizes(50, 1, 0, 2))
	require.Equal(t, []int{1, 2}, WaveSizes(3, 1, 0, 2))
	require.Equal(t, []int{3, 9, 27, 11}, WaveSizes(50, 0, 5, 3), "5% of 50 rounds up to 3")
	require.Equal(t, []int{5, 5, 5}, WaveSizes(15, 5, 0, 1))
	require.Equal(t, []int{2}, WaveSizes(2, 10, 0, 2), "a canary larger than the fleet is the fleet")
	require.Nil(t, WaveSizes(0, 1, 0, 2))
}

func TestBudget(t *testing.T) {
	p := func(v int32) *int32 { return &v }
	require.Equal(t, 1, Budget(50, nil, nil))
	require.Equal(t, 3, Budget(50, p(3), nil))
	require.Equal(t, 3, Budget(50, nil, p(5)), "5% of 50 rounds up to 3")
	require.Equal(t, 1, Budget(10, nil, p(5)), "a percentage never gives less than one host")
	require.Equal(t, 2, Budget(100, p(2), p(10)), "the smaller of both")
}
