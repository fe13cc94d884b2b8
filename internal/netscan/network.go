package netscan

import (
	"iter"
	"math/big"
	"net/netip"
	"strings"

	"github.com/openwatch/openwatch/internal/apperr"
)

// parseNetwork parses an IPv4 or IPv6 network and clears its host bits (10.0.1.7/24 is
// 10.0.1.0/24); an IPv4-mapped IPv6 network reads as the IPv4 network. Errors:
// validation_failed naming field.
func parseNetwork(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, apperr.Invalid(field, field+" is not an IPv4 or IPv6 network such as 10.0.1.0/24")
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// networkSize is how many addresses p spans, network and broadcast included.
func networkSize(p netip.Prefix) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
}

// scanAddresses yields the addresses of p a scan tries, in order. For IPv4 networks of
// four addresses or more the network and broadcast addresses are skipped; the unspecified
// address (0.0.0.0, ::), which reaches this machine rather than a host of the range, is
// never tried.
func scanAddresses(p netip.Prefix) iter.Seq[netip.Addr] {
	skipEnds := p.Addr().Is4() && p.Bits() <= 30
	return func(yield func(netip.Addr) bool) {
		for a := p.Addr(); a.IsValid() && p.Contains(a); a = a.Next() {
			if a.IsUnspecified() {
				continue
			}
			if skipEnds {
				next := a.Next()
				if a == p.Addr() || !next.IsValid() || !p.Contains(next) {
					continue
				}
			}
			if !yield(a) {
				return
			}
		}
	}
}

// countAddresses is how many addresses scanAddresses yields.
func countAddresses(p netip.Prefix) int64 {
	var n int64
	for range scanAddresses(p) {
		n++
	}
	return n
}

// parseAddress parses an address named in a path: plain (10.0.0.5, ::1) or bracketed
// ([::1]); IPv4-mapped IPv6 addresses read as IPv4.
func parseAddress(field, s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, apperr.Invalid(field, field+" is not a valid IPv4 or IPv6 address")
	}
	return a.Unmap(), nil
}
