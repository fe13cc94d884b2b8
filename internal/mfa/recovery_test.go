package mfa_test

import (
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/mfa"
)

var recoveryShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)

func TestNewRecoveryCodes(t *testing.T) {
	t.Parallel()
	codes, hashes, err := mfa.NewRecoveryCodes()
	require.NoError(t, err)
	require.Len(t, codes, mfa.RecoveryCodeCount)
	require.Len(t, hashes, mfa.RecoveryCodeCount)

	seen := map[string]bool{}
	for i, code := range codes {
		require.Regexp(t, recoveryShape, code)
		require.False(t, seen[code], "codes are unique")
		seen[code] = true
		require.True(t, mfa.LooksLikeRecoveryCode(code))

		sum := sha256.Sum256([]byte(strings.ReplaceAll(code, "-", "")))
		require.Equal(t, sum[:], hashes[i], "the hash is SHA-256 of the normalised code")
		require.Equal(t, hashes[i], mfa.HashRecoveryCode(code))
		require.Equal(t, i, mfa.MatchRecoveryCode(code, hashes))
	}

	again, _, err := mfa.NewRecoveryCodes()
	require.NoError(t, err)
	for _, code := range again {
		require.False(t, seen[code], "every set is fresh")
	}
}

// TestRecoveryCodesUseTheWholeAlphabet checks that sampling reaches every symbol (and
// only those), which the 60-bit entropy claim rests on.
func TestRecoveryCodesUseTheWholeAlphabet(t *testing.T) {
	t.Parallel()
	used := map[rune]bool{}
	for range 50 { // 6000 characters; the chance of missing one of 32 is below 1e-70
		codes, _, err := mfa.NewRecoveryCodes()
		require.NoError(t, err)
		for _, code := range codes {
			for _, r := range strings.ReplaceAll(code, "-", "") {
				used[r] = true
			}
		}
	}
	require.Len(t, used, 32)
	for _, r := range "ilou" {
		require.False(t, used[r], "ambiguous %q never appears", r)
	}
}

func TestHashRecoveryCodeNormalises(t *testing.T) {
	t.Parallel()
	want := mfa.HashRecoveryCode("k7wq-3hzp-x2m0")
	for name, input := range map[string]string{
		"noDashes":       "k7wq3hzpx2m0",
		"upperCase":      "K7WQ-3HZP-X2M0",
		"spaces":         "k7wq 3hzp x2m0",
		"surroundingWS":  "  k7wq-3hzp-x2m0\n",
		"mixed":          " K7wq 3HZP-x2m0 ",
		"letterOForZero": "k7wq-3hzp-x2mO",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, want, mfa.HashRecoveryCode(input))
		})
	}
	require.Equal(t, mfa.HashRecoveryCode("1111-1111-1111"), mfa.HashRecoveryCode("iIlL-1111-1111"),
		"i and l read as 1")
	require.NotEqual(t, want, mfa.HashRecoveryCode("k7wq-3hzp-x2m1"))
}

func TestMatchRecoveryCode(t *testing.T) {
	t.Parallel()
	codes, hashes, err := mfa.NewRecoveryCodes()
	require.NoError(t, err)
	require.Equal(t, 3, mfa.MatchRecoveryCode(strings.ToUpper(codes[3]), hashes))
	require.Equal(t, -1, mfa.MatchRecoveryCode("0000-0000-0000", hashes))
	require.Equal(t, -1, mfa.MatchRecoveryCode(codes[0], hashes[1:2]))
	require.Equal(t, -1, mfa.MatchRecoveryCode(codes[0], nil))
}

func TestLooksLikeRecoveryCode(t *testing.T) {
	t.Parallel()
	for input, want := range map[string]bool{
		"k7wq-3hzp-x2mv":   true,
		"K7WQ3HZPX2MV":     true,
		"k7wq 3hzp x2mv":   true,
		"k7wq-3hzp-x2mo":   true, // o reads as 0
		"123456":           false,
		"":                 false,
		"k7wq-3hzp-x2m":    false,
		"k7wq-3hzp-x2mvv":  false,
		"k7wq-3hzp-x2mu":   false, // u is not in the alphabet
		"k7wq-3hzp-x2m!":   false,
		"k7wq-3hzp-x2mé":   false,
		"k7wq_3hzp_x2mv":   false,
		"--------------":   false,
		"k7wq-3hzp-x2mv-1": false,
	} {
		require.Equal(t, want, mfa.LooksLikeRecoveryCode(input), "%q", input)
	}
}
