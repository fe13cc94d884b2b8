package netscan

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

func addrs(t *testing.T, cidr string) []string {
	t.Helper()
	p, err := parseNetwork("cidr", cidr)
	require.NoError(t, err)
	var out []string
	for a := range scanAddresses(p) {
		out = append(out, a.String())
	}
	require.Equal(t, int64(len(out)), countAddresses(p))
	return out
}

func TestScanAddresses(t *testing.T) {
	require.Equal(t, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}, addrs(t, "127.0.0.0/29"),
		"IPv4: network and broadcast skipped")
	require.Equal(t, []string{"127.0.0.1", "127.0.0.2"}, addrs(t, "127.0.0.3/30"), "host bits are cleared")
	require.Equal(t, []string{"10.0.0.4", "10.0.0.5"}, addrs(t, "10.0.0.4/31"), "a /31 has no network or broadcast address")
	require.Equal(t, []string{"10.0.0.9"}, addrs(t, "10.0.0.9/32"))
	require.Equal(t, []string{"255.255.255.253", "255.255.255.254"}, addrs(t, "255.255.255.252/30"), "the end of the space")
	require.Equal(t, []string{"::1", "::2", "::3"}, addrs(t, "::/126"), "IPv6 keeps every address but the unspecified one")
	require.Equal(t, []string{"fd00::4", "fd00::5", "fd00::6", "fd00::7"}, addrs(t, "fd00::5/126"))
	require.Equal(t, []string{"127.0.0.1", "127.0.0.2"}, addrs(t, "::ffff:127.0.0.0/126"), "IPv4-mapped networks read as IPv4")
	require.Equal(t, 1022, len(addrs(t, "127.0.0.0/22")))
}

func TestParseNetworkRejects(t *testing.T) {
	for _, s := range []string{"", "10.0.0.0", "10.0.0.0/33", "fd00::/129", "not-a-net/24", "10.0.0.256/24", "fe80::1%eth0/64"} {
		_, err := parseNetwork("cidr", s)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "%q: %v", s, err)
		require.Equal(t, "cidr", apperr.As(err).Detail["field"])
	}
}

func TestNetworkSize(t *testing.T) {
	for cidr, want := range map[string]string{"10.0.0.0/22": "1024", "10.0.0.1/32": "1", "::/64": "18446744073709551616", "::/0": "340282366920938463463374607431768211456"} {
		p, err := parseNetwork("cidr", cidr)
		require.NoError(t, err)
		require.Equal(t, want, networkSize(p).String(), cidr)
	}
}

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.2": "127.0.0.2", "::1": "::1", "[::1]": "::1", "[fd00::5]": "fd00::5", "::ffff:10.0.0.1": "10.0.0.1"} {
		a, err := parseAddress("address", in)
		require.NoError(t, err, in)
		require.Equal(t, netip.MustParseAddr(want), a, in)
	}
	for _, in := range []string{"", "nonsense", "127.0.0", "[::1", "fe80::1%eth0", "10.0.0.0/24"} {
		_, err := parseAddress("address", in)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), in)
	}
}

func TestNormalisePorts(t *testing.T) {
	got, err := normalisePorts(nil)
	require.NoError(t, err)
	require.Equal(t, []int32{22}, got)
	got, err = normalisePorts([]int{2222, 22, 2222})
	require.NoError(t, err)
	require.True(t, slices.Equal([]int32{22, 2222}, got))
	_, err = normalisePorts([]int{0})
	require.True(t, apperr.Is(err, apperr.CodeValidationFailed))
}
