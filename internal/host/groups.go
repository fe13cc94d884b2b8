package host

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// Group is a host group with its live host count.
type Group = dbq.GroupGetRow

func errGroupNotFound() error { return apperr.NotFound("The group does not exist.") }

func groupConflict(err error, name string) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return apperr.Conflict(fmt.Sprintf("A group named %q already exists.", name)).WithDetail("field", "name")
	}
	return err
}

// groupChange runs fn on group id in a transaction that also records ev, and returns the
// group afterwards.
func (s *Service) groupChange(ctx context.Context, id uuid.UUID, ev audit.Event, fn func(q *dbq.Queries) error) (Group, error) {
	var g Group
	err := s.write(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := fn(q); err != nil {
			return err
		}
		var err error
		g, err = q.GroupGet(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errGroupNotFound())
		}
		return s.audit.Append(ctx, tx, ev)
	})
	return g, err
}

// CreateGroup adds a host group. Guarded by host:write. Errors: resource.conflict.
func (s *Service) CreateGroup(ctx context.Context, actor *authz.Principal, name, description string) (Group, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Group{}, apperr.Internal(err)
	}
	ev := audit.For(ctx, actor, audit.ActionGroupCreated, "group", id.String(), map[string]any{"name": name})
	return s.groupChange(ctx, id, ev, func(q *dbq.Queries) error {
		_, err := q.GroupInsert(ctx, dbq.GroupInsertParams{ID: id, Name: name, Description: description, CreatedBy: actor.Actor().String()})
		return groupConflict(err, name)
	})
}

// GetGroup returns a group. Guarded by host:read.
func (s *Service) GetGroup(ctx context.Context, id uuid.UUID) (Group, error) {
	g, err := s.q.GroupGet(ctx, id)
	return g, pg.NotFoundAs(err, errGroupNotFound())
}

// ListGroups returns a page of groups. Guarded by host:read.
func (s *Service) ListGroups(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.GroupListRow], error) {
	rows, err := s.q.GroupList(ctx, dbq.GroupListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[dbq.GroupListRow]{}, pg.Translate(err)
	}
	return cursor.Cut(page, rows, func(g dbq.GroupListRow) uuid.UUID { return g.ID }), nil
}

// UpdateGroup renames or describes a group. Guarded by host:write.
func (s *Service) UpdateGroup(ctx context.Context, actor *authz.Principal, id uuid.UUID, name, description *string) (Group, error) {
	ev := audit.For(ctx, actor, audit.ActionGroupUpdated, "group", id.String(), map[string]any{"name": name, "description": description})
	return s.groupChange(ctx, id, ev, func(q *dbq.Queries) error {
		n, err := q.GroupUpdate(ctx, dbq.GroupUpdateParams{ID: id, Name: name, Description: description})
		if err != nil {
			if name != nil {
				return groupConflict(err, *name)
			}
			return pg.Translate(err)
		}
		if n == 0 {
			return errGroupNotFound()
		}
		return nil
	})
}

// SetGroupMaintenance turns a group's maintenance mode on or off. Guarded by host:write.
func (s *Service) SetGroupMaintenance(ctx context.Context, actor *authz.Principal, id uuid.UUID, enabled bool) (Group, error) {
	ev := audit.For(ctx, actor, audit.ActionGroupMaintenance, "group", id.String(), map[string]any{"enabled": enabled})
	return s.groupChange(ctx, id, ev, func(q *dbq.Queries) error {
		n, err := q.GroupSetMaintenance(ctx, dbq.GroupSetMaintenanceParams{ID: id, Enabled: enabled})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errGroupNotFound()
		}
		return nil
	})
}

// DeleteGroup deletes a group; its hosts stay, without a group. Guarded by host:delete.
func (s *Service) DeleteGroup(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		n, err := dbq.New(tx).GroupDelete(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errGroupNotFound()
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionGroupDeleted, "group", id.String(), nil))
	})
}

// requireGroup returns resource.not_found unless group id exists.
func requireGroup(ctx context.Context, q *dbq.Queries, id uuid.UUID) error {
	ok, err := q.HostGroupExists(ctx, id)
	if err != nil {
		return pg.Translate(err)
	}
	if !ok {
		return errGroupNotFound()
	}
	return nil
}

// GroupMembers returns a page of the live hosts of a group. Guarded by host:read.
// Errors: resource.not_found.
func (s *Service) GroupMembers(ctx context.Context, id uuid.UUID, page cursor.Request[uuid.UUID]) (cursor.Page[dbq.HostListRow], error) {
	if err := requireGroup(ctx, s.q, id); err != nil {
		return cursor.Page[dbq.HostListRow]{}, err
	}
	return s.List(ctx, Filter{GroupID: &id}, page)
}

// SetMember puts a host in a group (in=true) or takes it out. Both are idempotent.
// Guarded by host:write. Errors: resource.not_found (group or host).
func (s *Service) SetMember(ctx context.Context, actor *authz.Principal, groupID, hostID uuid.UUID, in bool) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := requireGroup(ctx, q, groupID); err != nil {
			return err
		}
		if _, err := q.HostGet(ctx, hostID); err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		var err error
		if in {
			_, err = q.GroupAddHost(ctx, dbq.GroupAddHostParams{GroupID: &groupID, HostID: hostID})
		} else {
			_, err = q.GroupRemoveHost(ctx, dbq.GroupRemoveHostParams{GroupID: &groupID, HostID: hostID})
		}
		if err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionGroupMembership, "group", groupID.String(),
			map[string]any{"host_id": hostID.String(), "member": in}))
	})
}
