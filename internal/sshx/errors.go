package sshx

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
)

// Error types reported by ErrorType. They are the values of the API's
// error_type fields.
const (
	TypeTimeout            = "timeout"
	TypeConnectionRefused  = "connection_refused"
	TypeNetworkUnreachable = "network_unreachable"
	TypeDNS                = "dns"
	TypeProtocol           = "protocol"
	TypeAuthFailed         = "auth_failed"
	TypeHostKeyChanged     = "host_key_changed"
	TypeCommandTimeout     = "command_timeout"
	TypePrivilegeDenied    = "privilege_denied"
	TypeNotAllowed         = "not_allowed"
	TypeUnknown            = "unknown"
)

var (
	// ErrHostKeyChanged is wrapped by a HostKeyVerifier when the presented
	// host key differs from the stored one. Dial fails closed with it.
	ErrHostKeyChanged = errors.New("sshx: host key changed")
	// ErrAuthFailed means the server rejected every authentication method.
	ErrAuthFailed = errors.New("sshx: authentication failed")
	// ErrProtocol means the peer does not speak SSH (no or bad
	// identification line, failed key exchange).
	ErrProtocol = errors.New("sshx: not an SSH server or protocol error")
	// ErrCommandTimeout means a batch did not finish within its command
	// timeout (or the context deadline); its session was closed.
	ErrCommandTimeout = errors.New("sshx: command timed out")
	// ErrPrivilegeDenied means a privileged batch could not get root: the
	// login is not root, sudo -n fails and a sudo password is not allowed or
	// was rejected.
	ErrPrivilegeDenied = errors.New("sshx: privilege escalation denied")
	// ErrNotAllowed means the address is outside the networks the Dialer may
	// reach (ssh.allowed_networks): nothing was dialled.
	ErrNotAllowed = errors.New("sshx: address not allowed (ssh.allowed_networks)")
)

// ErrorType classifies err into one of the Type* values for the API's
// error_type fields. A nil error yields "".
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	sentinels := []struct {
		err error
		typ string
	}{
		{ErrCommandTimeout, TypeCommandTimeout},
		{ErrHostKeyChanged, TypeHostKeyChanged},
		{ErrAuthFailed, TypeAuthFailed},
		{ErrPrivilegeDenied, TypePrivilegeDenied},
		{ErrProtocol, TypeProtocol},
		{ErrNotAllowed, TypeNotAllowed},
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.typ
		}
	}
	return networkErrorType(err)
}

// networkErrorType classifies dial and I/O errors.
func networkErrorType(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return TypeTimeout
		}
		return TypeDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return TypeConnectionRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.EADDRNOTAVAIL):
		return TypeNetworkUnreachable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return TypeTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return TypeTimeout
	}
	if strings.Contains(err.Error(), "i/o timeout") {
		return TypeTimeout
	}
	return TypeUnknown
}
