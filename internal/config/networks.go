package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Networks is a list of IP networks that reads and writes as text: networks in CIDR form,
// separated by commas or spaces ("127.0.0.0/8, ::1/128"). A plain address stands for the
// network of that address alone (127.0.0.1 is 127.0.0.1/32), host bits are cleared
// (10.0.1.7/24 is 10.0.1.0/24) and an IPv4-mapped IPv6 network reads as the IPv4 one.
type Networks []netip.Prefix

// AllNetworks is every IPv4 and IPv6 address: 0.0.0.0/0 and ::/0.
func AllNetworks() Networks {
	return Networks{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
}

// LoopbackNetworks is this machine's loopback addresses: 127.0.0.0/8 and ::1/128.
func LoopbackNetworks() Networks {
	return Networks{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// String returns the networks separated by commas.
func (n Networks) String() string {
	s := make([]string, len(n))
	for i, p := range n {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// MarshalText encodes the networks as String does.
func (n Networks) MarshalText() ([]byte, error) {
	return []byte(n.String()), nil
}

// UnmarshalText parses networks separated by commas or spaces; an empty text is an empty
// list, which Validate rejects where a list is required.
func (n *Networks) UnmarshalText(text []byte) error {
	fields := strings.FieldsFunc(string(text), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	out := make(Networks, 0, len(fields))
	for _, f := range fields {
		p, err := parseNetwork(f)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	*n = out
	return nil
}

// parseNetwork parses one network in CIDR form, or one address.
func parseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a network such as 10.0.0.0/8 or fd00::/8", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not a network such as 10.0.0.0/8 or fd00::/8", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
