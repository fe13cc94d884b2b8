package sshx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
)

// DialFunc opens a TCP connection to addr, an IP address and port; (*net.Dialer).DialContext
// is the real one. Tests inject one to see which addresses would be dialled.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer opens every TCP connection of the package: SSH logins (Dial) and banner probes
// (Banner). It reaches only addresses inside its allowed networks: any other address is
// refused before a socket is opened, with an error wrapping ErrNotAllowed, and counted.
// Production allows every network unless ssh.allowed_networks says otherwise; tests,
// benchmarks and development tools allow loopback only, so they can never probe a machine
// that is not theirs. A Dialer is safe for concurrent use.
type Dialer struct {
	allowed  []netip.Prefix
	dial     DialFunc
	resolver *net.Resolver
	blocked  atomic.Int64
	observer Observer
}

// Observer is told about every SSH login and session (metrics).
type Observer interface {
	// Dialed reports one login: errorType is "" on success, else ErrorType of the error.
	Dialed(errorType string)
	// SessionOpened reports one session opened on an established connection, or refused.
	SessionOpened(ok bool)
}

// SetObserver makes o hear about every login and session; call it before the dialer is
// used.
func (d *Dialer) SetObserver(o Observer) { d.observer = o }

// NewDialer returns a dialer reaching only addresses inside allowed (an empty list reaches
// nothing). dial opens the connections; nil uses a net.Dialer.
func NewDialer(allowed []netip.Prefix, dial DialFunc) *Dialer {
	nets := make([]netip.Prefix, len(allowed))
	for i, p := range allowed {
		nets[i] = p.Masked()
	}
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return &Dialer{allowed: nets, dial: dial, resolver: net.DefaultResolver}
}

// Loopback returns a dialer reaching loopback addresses only (LoopbackNetworks): the one
// for tests, benchmarks and development tools.
func Loopback() *Dialer { return NewDialer(LoopbackNetworks(), nil) }

// LoopbackNetworks returns 127.0.0.0/8 and ::1/128.
func LoopbackNetworks() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// AllNetworks returns 0.0.0.0/0 and ::/0, which contain every address.
func AllNetworks() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
}

// Allows reports whether ip is inside one of the allowed networks. An IPv4-mapped IPv6
// address counts as its IPv4 address, and an IPv6 zone is ignored.
func (d *Dialer) Allows(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range d.allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Blocked returns how many connections the dialer refused because their address was
// outside the allowed networks.
func (d *Dialer) Blocked() int64 { return d.blocked.Load() }

// connect opens a TCP connection to addr (host:port). A host name is resolved first and
// only its allowed addresses are dialled, in order, until one answers; when none is
// allowed, nothing is dialled and the error wraps ErrNotAllowed.
func (d *Dialer) connect(ctx context.Context, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, perr := netip.ParseAddr(host); perr == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = d.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	var lastErr error
	for _, ip := range ips {
		if !d.Allows(ip) {
			continue
		}
		conn, err := d.dial(ctx, "tcp", net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	d.blocked.Add(1)
	return nil, fmt.Errorf("%s is outside the networks SSH may reach (%s): %w", host, d.networks(), ErrNotAllowed)
}

// networks lists the allowed networks for messages.
func (d *Dialer) networks() string {
	if len(d.allowed) == 0 {
		return "none"
	}
	s := make([]string, len(d.allowed))
	for i, p := range d.allowed {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
