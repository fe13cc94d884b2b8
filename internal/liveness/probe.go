package liveness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Connector opens authenticated SSH connections to hosts; *hostssh.Connector implements
// it. A host no credential applies to fails with host.unreachable and error_type
// hostssh.ErrorTypeNoCredential.
type Connector interface {
	Connect(ctx context.Context, hostID uuid.UUID) (*hostssh.Conn, error)
}

// target is a host to probe.
type target struct {
	hostID uuid.UUID
	addr   string
}

func targetAddr(ip fmt.Stringer, port int32) string {
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}

// privilegeProbe is the command of the privilege layer: it succeeds as soon as it runs.
var privilegeProbe = []sshx.Command{{Name: "liveness", Script: "true"}}

// probe runs the layers against t, each within the configured timeout: the banner, then,
// when the banner answered and a connector is set, the login and the privileged command.
// An address the dialer may not reach fails the ping layer with error_type not_allowed
// and is never contacted.
func probe(ctx context.Context, dialer *sshx.Dialer, conn Connector, t target, timeout time.Duration, now func() time.Time) *Probe {
	p := &Probe{At: now()}
	banner, rtt, err := dialer.Banner(ctx, t.addr, timeout)
	p.ResponseMS = int(rtt.Milliseconds())
	if err != nil {
		p.fail(LayerPing, sshx.ErrorType(err), err)
		return p
	}
	p.PingOK, p.Banner = true, banner
	if conn != nil {
		login(ctx, conn, t.hostID, timeout, p)
	}
	return p
}

// login runs the authenticated layers. No credential (or a host deleted meanwhile) skips
// them: they are not failures.
func login(ctx context.Context, connector Connector, hostID uuid.UUID, timeout time.Duration, p *Probe) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := connector.Connect(dctx, hostID)
	if err != nil {
		if skipLogin(err) {
			return
		}
		p.SSHOK = new(false)
		p.fail(LayerSSH, errorType(err), err)
		return
	}
	defer func() { _ = conn.Close() }()
	p.SSHOK = new(true)
	bctx, cancelBatch := context.WithTimeout(ctx, timeout)
	defer cancelBatch()
	res, err := conn.Batch(bctx, privilegeProbe, true)
	p.Privilege = string(res.Privilege)
	if err == nil && len(res.Results) > 0 && !res.Results[0].OK() {
		err = fmt.Errorf("privileged probe exited with status %d", res.Results[0].ExitCode)
	}
	if err != nil {
		p.PrivilegeOK = new(false)
		p.fail(LayerPrivilege, errorType(err), err)
		return
	}
	p.PrivilegeOK = new(true)
}

// skipLogin reports whether a failed Connect means the login layers do not apply.
func skipLogin(err error) bool {
	if apperr.Is(err, apperr.CodeNotFound) {
		return true
	}
	e := apperr.As(err)
	return e != nil && e.Code == apperr.CodeHostUnreachable && e.Detail["error_type"] == hostssh.ErrorTypeNoCredential
}

// errorType classifies a layer failure for the error_type fields: the error_type hostssh
// gave it, else sshx's classification (which also sees through a host.key_mismatch to
// host_key_changed and a deadline to timeout).
func errorType(err error) string {
	if e := apperr.As(err); e != nil {
		if t, ok := e.Detail["error_type"].(string); ok && t != "" {
			return t
		}
	}
	return sshx.ErrorType(err)
}

// fail records the first failing layer.
func (p *Probe) fail(layer, typ string, err error) {
	if p.FailedLayer != "" {
		return
	}
	p.FailedLayer, p.ErrorType, p.ErrorMessage = layer, typ, errorMessage(err)
}

// maxErrorMessage bounds stored error messages.
const maxErrorMessage = 500

// errorMessage is what an operator reads about a failed layer: an application error's
// message and cause, or the network error itself (never "an internal error": a refused
// connection is the host's answer, not the server's fault).
func errorMessage(err error) string {
	msg := err.Error()
	var e *apperr.Error
	if errors.As(err, &e) {
		msg = e.HumanMessage()
		if e.Err != nil {
			msg += " " + e.Err.Error()
		}
	}
	if len(msg) > maxErrorMessage {
		msg = strings.ToValidUTF8(msg[:maxErrorMessage], "")
	}
	return msg
}
