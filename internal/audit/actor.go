package audit

import (
	"context"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// For builds the event for action done by p (nil: the system, or an anonymous caller when
// the context is a request) within the request of ctx, about one resource.
func For(ctx context.Context, p *authz.Principal, action Action, resourceType, resourceID string, detail map[string]any) Event {
	info := reqinfo.From(ctx)
	e := Event{
		Action: action, ResourceType: resourceType, ResourceID: resourceID, Detail: detail,
		CorrelationID: info.CorrelationID, ClientAddr: info.ClientAddr,
	}
	switch a := p.Actor(); {
	case a.Kind != authz.ActorSystem:
		e.ActorType, e.ActorID = string(a.Kind), a.String()
	case p == nil && info.CorrelationID != "":
		e.ActorType = ActorAnonymous
	default:
		e.ActorType = ActorSystem
	}
	return e
}
