package health

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func fromAPIParams(svc *api.HealthCheckService, tcp *api.HealthCheckTCP, h *api.HealthCheckHTTP, cmd *api.HealthCheckCommand) Params {
	var p Params
	if svc != nil {
		p.Service = &ServiceParams{Unit: svc.Unit}
	}
	if tcp != nil {
		p.TCP = &TCPParams{Host: deref(tcp.Host), Port: tcp.Port}
	}
	if h != nil {
		p.HTTP = &HTTPParams{URL: h.Url, BodyContains: deref(h.BodyContains), InsecureTLS: h.InsecureTls != nil && *h.InsecureTls}
		if h.ExpectedStatus != nil {
			p.HTTP.ExpectedStatus = *h.ExpectedStatus
		}
	}
	if cmd != nil {
		p.Command = &CommandParams{Command: cmd.Command, ExpectedOutput: deref(cmd.ExpectedOutput)}
	}
	return p
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func fromCreate(b api.HealthCheckCreate) Spec {
	return Spec{Name: b.Name, Kind: Kind(b.Kind), Params: fromAPIParams(b.Service, b.Tcp, b.Http, b.Command),
		TimeoutSec: b.TimeoutSec, Retries: deref(b.Retries), RetryDelaySec: deref(b.RetryDelaySec),
		Enabled: b.Enabled == nil || *b.Enabled}
}

func fromUpdate(b api.HealthCheckUpdate) Patch {
	p := Patch{Name: b.Name, TimeoutSec: b.TimeoutSec, Retries: b.Retries, RetryDelaySec: b.RetryDelaySec, Enabled: b.Enabled}
	if b.Service != nil || b.Tcp != nil || b.Http != nil || b.Command != nil {
		params := fromAPIParams(b.Service, b.Tcp, b.Http, b.Command)
		p.Params = &params
	}
	return p
}

func toAPIOutcome(r Run) api.HealthCheckOutcome {
	at := r.TestedAt
	return api.HealthCheckOutcome{Ok: r.OK, Detail: r.Detail, Output: r.Output, DurationMs: r.Duration.Milliseconds(),
		Attempts: r.Attempts, HostId: r.HostID, TestedAt: &at}
}

func toAPI(c Check) api.HealthCheck {
	out := api.HealthCheck{Id: c.ID, Name: c.Name, Kind: api.HealthCheckKind(c.Kind), Target: c.Target(),
		TimeoutSec: c.TimeoutSec, Retries: c.Retries, RetryDelaySec: c.RetryDelaySec, Enabled: c.Enabled,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	p := c.Params
	if p.Service != nil {
		out.Service = &api.HealthCheckService{Unit: p.Service.Unit}
	}
	if p.TCP != nil {
		host := p.TCP.host()
		out.Tcp = &api.HealthCheckTCP{Host: &host, Port: p.TCP.Port}
	}
	if p.HTTP != nil {
		status, insecure := p.HTTP.status(), p.HTTP.InsecureTLS
		out.Http = &api.HealthCheckHTTP{Url: p.HTTP.URL, ExpectedStatus: &status, BodyContains: opt(p.HTTP.BodyContains),
			InsecureTls: &insecure}
	}
	if p.Command != nil {
		out.Command = &api.HealthCheckCommand{Command: p.Command.Command, ExpectedOutput: opt(p.Command.ExpectedOutput)}
	}
	if c.LastTest != nil {
		o := toAPIOutcome(*c.LastTest)
		out.LastResult = &o
	}
	return out
}
