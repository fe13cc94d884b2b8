package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// DefaultEnvironment is the environment of hosts created without one.
const DefaultEnvironment = "default"

// Service manages hosts.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	pages *pageCache
}

// NewService returns the host service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer) *Service {
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, pages: newPageCache()}
}

// Subscriber is what the notification listener feeds (channel InventoryChannel).
func (s *Service) Subscriber() pg.Subscriber { return s.pages }

// write runs fn in a transaction and, once it committed, drops the cached list pages of
// this process (the others hear of it through InventoryChannel).
func (s *Service) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pg.WithTx(ctx, s.pool, fn)
	s.pages.invalidate()
	return err
}

// Host is a live host with its effective maintenance mode.
type Host = dbq.HostGetRow

// CreateInput describes a new host.
type CreateInput struct {
	Hostname    string
	IPAddress   string
	Port        int
	DisplayName string
	Description string
	Environment string
	Tags        []string
	GroupID     *uuid.UUID
	Username    string
}

var errNotFound = apperr.NotFound("The host does not exist.")

func parseIP(field, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, apperr.Invalid(field, field+" is not a valid IPv4 or IPv6 address")
	}
	return a.Unmap(), nil
}

func (s *Service) checkGroup(ctx context.Context, q *dbq.Queries, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	ok, err := q.HostGroupExists(ctx, *id)
	if err != nil {
		return pg.Translate(err)
	}
	if !ok {
		return apperr.Invalid("group_id", "group_id names no existing group")
	}
	return nil
}

func duplicate(err error, hostname, env string) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return apperr.Conflict(fmt.Sprintf("A host named %q already exists in environment %q.", hostname, env)).WithDetail("field", "hostname")
	}
	return err
}

// Create adds a host. Guarded by host:write.
// Errors: validation_failed (bad IP, unknown group), resource.conflict (hostname taken).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (Host, error) {
	ip, err := parseIP("ip_address", in.IPAddress)
	if err != nil {
		return Host{}, err
	}
	if in.Port == 0 {
		in.Port = 22
	}
	if in.Environment == "" {
		in.Environment = DefaultEnvironment
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Host{}, apperr.Internal(err)
	}
	var h Host
	err = s.write(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := s.checkGroup(ctx, q, in.GroupID); err != nil {
			return err
		}
		if _, err := q.HostInsert(ctx, dbq.HostInsertParams{
			ID: id, Hostname: in.Hostname, IpAddress: ip, Port: int32(in.Port), DisplayName: in.DisplayName,
			Description: in.Description, Environment: in.Environment, Tags: in.Tags, GroupID: in.GroupID,
			Username: in.Username, CreatedBy: actor.Actor().String(),
		}); err != nil {
			return duplicate(err, in.Hostname, in.Environment)
		}
		if h, err = q.HostGet(ctx, id); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostCreated, "host", id.String(),
			map[string]any{"hostname": in.Hostname, "ip_address": ip.String(), "environment": in.Environment}))
	})
	return h, err
}

// Get returns a live host. Guarded by host:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Host, error) {
	h, err := s.q.HostGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Host{}, errNotFound
	}
	return h, pg.Translate(err)
}

// Filter narrows a host list.
type Filter struct {
	Environment *string
	Tag         *string
	GroupID     *uuid.UUID
	Q           *string
	Maintenance *bool
	Limit       *int
	Cursor      *string
}

// List returns a page of live hosts in creation order. Guarded by host:read.
func (s *Service) List(ctx context.Context, f Filter) ([]dbq.HostListRow, *string, error) {
	after, err := cursor.AfterID(f.Cursor)
	if err != nil {
		return nil, nil, err
	}
	n := cursor.Limit(f.Limit)
	rows, err := s.q.HostList(ctx, dbq.HostListParams{
		After: after, Environment: f.Environment, Tag: f.Tag, GroupID: f.GroupID, Q: f.Q, Maintenance: f.Maintenance,
		RowLimit: int32(n + 1),
	})
	if err != nil {
		return nil, nil, pg.Translate(err)
	}
	rows, next := cursor.Trim(rows, n, func(h dbq.HostListRow) any { return h.ID })
	return rows, next, nil
}

// LivenessSummaries returns, by host id, the liveness summary of those of the given hosts a
// probe has reached (the others have none). Guarded by host:read.
func (s *Service) LivenessSummaries(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]dbq.HostLivenessSummariesRow, error) {
	out := make(map[uuid.UUID]dbq.HostLivenessSummariesRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.q.HostLivenessSummaries(ctx, ids)
	if err != nil {
		return nil, pg.Translate(err)
	}
	for _, r := range rows {
		out[r.HostID] = r
	}
	return out, nil
}

// Liveness returns the liveness row of a host, or nil when the poller has not seen it yet.
// Guarded by host:read.
func (s *Service) Liveness(ctx context.Context, id uuid.UUID) (*dbq.HostLiveness, error) {
	l, err := s.q.LivenessGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, pg.Translate(err)
	}
	if l.MonitoringState == "unknown" && l.LastProbeAt == nil {
		return nil, nil // the row exists from creation; nothing is known until a probe ran
	}
	return &l, nil
}

// UpdateInput holds the fields to change; nil leaves a field as it is.
type UpdateInput struct {
	IPAddress   *string
	Port        *int
	DisplayName *string
	Description *string
	Environment *string
	Tags        *[]string
	GroupID     *uuid.UUID
	Username    *string
}

// Update changes mutable host fields. Guarded by host:write.
// Errors: resource.not_found, validation_failed, resource.conflict.
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in UpdateInput) (Host, error) {
	p := dbq.HostUpdateParams{ID: id, DisplayName: in.DisplayName, Description: in.Description, Environment: in.Environment,
		Username: in.Username, GroupID: in.GroupID, SetGroup: in.GroupID != nil}
	if in.IPAddress != nil {
		ip, err := parseIP("ip_address", *in.IPAddress)
		if err != nil {
			return Host{}, err
		}
		p.IpAddress = &ip
	}
	if in.Port != nil {
		port := int32(*in.Port)
		p.Port = &port
	}
	if in.Tags != nil {
		p.Tags = *in.Tags
		if p.Tags == nil {
			p.Tags = []string{}
		}
	}
	var h Host
	err := s.write(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := s.checkGroup(ctx, q, in.GroupID); err != nil {
			return err
		}
		cur, err := q.HostGet(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return pg.Translate(err)
		}
		if _, err := q.HostUpdate(ctx, p); err != nil {
			env := cur.Environment
			if in.Environment != nil {
				env = *in.Environment
			}
			return duplicate(err, cur.Hostname, env)
		}
		if h, err = q.HostGet(ctx, id); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostUpdated, "host", id.String(), changes(in)))
	})
	return h, err
}

// changes lists the fields an update set, for the audit trail.
func changes(in UpdateInput) map[string]any {
	d := map[string]any{}
	set := func(k string, v any, ok bool) {
		if ok {
			d[k] = v
		}
	}
	set("ip_address", in.IPAddress, in.IPAddress != nil)
	set("port", in.Port, in.Port != nil)
	set("display_name", in.DisplayName, in.DisplayName != nil)
	set("description", in.Description, in.Description != nil)
	set("environment", in.Environment, in.Environment != nil)
	set("tags", in.Tags, in.Tags != nil)
	set("group_id", in.GroupID, in.GroupID != nil)
	set("username", in.Username, in.Username != nil)
	return d
}

// SetMaintenance turns a host's own maintenance mode on or off. Guarded by host:write.
func (s *Service) SetMaintenance(ctx context.Context, actor *authz.Principal, id uuid.UUID, enabled bool) (Host, error) {
	var h Host
	err := s.write(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		n, err := q.HostSetMaintenance(ctx, dbq.HostSetMaintenanceParams{ID: id, Enabled: enabled})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errNotFound
		}
		if h, err = q.HostGet(ctx, id); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostMaintenance, "host", id.String(), map[string]any{"enabled": enabled}))
	})
	return h, err
}

// Delete soft-deletes a host; its hostname becomes reusable. Guarded by host:delete.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		n, err := dbq.New(tx).HostSoftDelete(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errNotFound
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostDeleted, "host", id.String(), nil))
	})
}
