package exception

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
)

// toAPIException renders an exception for the caller p (requested_by_caller tells the UI
// the caller may not decide it).
func (h *Handlers) toAPIException(p *authz.Principal, e dbq.ComplianceException) api.Exception {
	mine := p != nil && e.RequestedBy != "" && e.RequestedBy == p.Actor().String()
	out := api.Exception{
		Id: e.ID, Kind: api.ExceptionKind(e.Kind), AdvisoryId: e.AdvisoryID, Scope: api.ExceptionScope(e.Scope),
		HostId: e.HostID, GroupId: e.GroupID, Status: api.ExceptionStatus(e.Status), Reason: e.Reason,
		ExpiresAt: e.ExpiresAt, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt,
		DecidedBy: e.DecidedBy, DecidedAt: e.DecidedAt, DecisionReason: e.DecisionReason,
		RevokedBy: e.RevokedBy, RevokedAt: e.RevokedAt, RevokeReason: e.RevokeReason,
		ExpiredAt: e.ExpiredAt, UpdatedAt: e.UpdatedAt, RequestedByCaller: &mine,
	}
	if e.Kind == KindRule {
		title := h.svc.RuleTitle(e.RuleID)
		out.RuleId, out.RuleTitle = &e.RuleID, &title
	}
	return out
}
