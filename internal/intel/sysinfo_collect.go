package intel

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// CollectSystemInfo (the API's host discovery, POST /hosts/{id}/discovery:run) connects to
// the host (one SSH connection, one session), collects its system information, stores it
// (write-on-change) and copies the OS fields onto the host, all in one transaction at the
// end, so a run killed half-way wrote nothing and a repeated run finds its own result and
// changes nothing. actor is the caller of an on-demand run (audited), nil for a job.
// Guarded by host:write. Errors: resource.not_found, host.busy, host.unreachable,
// host.key_mismatch.
func (s *Service) CollectSystemInfo(ctx context.Context, actor *authz.Principal, hostID uuid.UUID) (dbq.HostSystemInfo, error) {
	var info dbq.HostSystemInfo
	attempted := func(ctx context.Context, at time.Time) error {
		return s.q.IntelScheduleMarkSystemInfo(ctx, dbq.IntelScheduleMarkSystemInfoParams{HostIds: []uuid.UUID{hostID}, At: at})
	}
	err := s.onHost(ctx, lockSystemInfo, hostID, systemInfoCommands, attempted, func(br sshx.BatchResult, st Stats) error {
		var err error
		info, err = s.storeSystemInfo(ctx, actor, hostID, parseSystemInfo(br), st)
		return err
	})
	if err != nil {
		return dbq.HostSystemInfo{}, err
	}
	return info, nil
}

// storeSystemInfo writes a system info collection's result in one transaction.
func (s *Service) storeSystemInfo(ctx context.Context, actor *authz.Principal, hostID uuid.UUID, si SystemInfo, st Stats) (dbq.HostSystemInfo, error) {
	now := s.now().UTC()
	hash := si.Hash()
	var (
		row     dbq.HostSystemInfo
		changed bool
	)
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		stored, err := q.IntelSystemInfoLock(ctx, hostID)
		switch {
		case err == nil && stored == hash:
			err = q.IntelSystemInfoTouch(ctx, dbq.IntelSystemInfoTouchParams{HostID: hostID, CollectedAt: now,
				MemAvailableMb: si.MemAvailableMB, DiskUsedGb: si.DiskUsedGB, DiskFreeGb: si.DiskFreeGB})
		case pg.IgnoreNotFound(err) == nil: // found with another hash, or not stored yet
			changed = true
			err = q.IntelSystemInfoUpsert(ctx, upsertParams(hostID, si, hash, now))
		}
		if err != nil {
			return pg.Translate(err)
		}
		if _, err := s.hosts.SetOS(ctx, tx, hostID, host.OS{Family: si.OSFamily, Version: si.OSVersion,
			Architecture: si.Architecture, PlatformIdentifier: si.PlatformIdentifier, DiscoveredAt: now}); err != nil {
			return err
		}
		if err := q.IntelScheduleMarkSystemInfo(ctx, dbq.IntelScheduleMarkSystemInfoParams{HostIds: []uuid.UUID{hostID}, At: now}); err != nil {
			return pg.Translate(err)
		}
		if changed {
			if err := publishSystemInfo(ctx, tx, hostID, si); err != nil {
				return err
			}
			if s.inventoryChanged != nil {
				if err := s.inventoryChanged(ctx, tx, hostID); err != nil {
					return err
				}
			}
		}
		if actor != nil {
			if err := s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionHostDiscoveryRun, "host", hostID.String(),
				map[string]any{"changed": changed, "ssh_sessions": st.Sessions, "privilege": string(st.Privilege)})); err != nil {
				return err
			}
		}
		row, err = q.IntelSystemInfoGet(ctx, hostID)
		return noHostErr(err)
	})
	return row, err
}

// publishSystemInfo announces new system facts on the live stream.
func publishSystemInfo(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, si SystemInfo) error {
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicDiscovery, Type: "host.discovered", HostID: &hostID,
		Permission: authz.PermHostRead, Data: map[string]any{
			"host_id": hostID, "os_family": si.OSFamily, "os_version": si.OSVersion,
			"platform_identifier": si.PlatformIdentifier, "architecture": si.Architecture,
			"kernel_release": si.KernelRelease, "hostname": si.Hostname,
		}})
	return err
}

func upsertParams(hostID uuid.UUID, si SystemInfo, hash string, now time.Time) dbq.IntelSystemInfoUpsertParams {
	return dbq.IntelSystemInfoUpsertParams{
		HostID: hostID, OsName: si.OSName, OsVersion: si.OSVersion, OsVersionFull: si.OSVersionFull, OsID: si.OSID,
		OsIDLike: si.OSIDLike, OsPrettyName: si.OSPrettyName, PlatformIdentifier: si.PlatformIdentifier,
		OsFamily: si.OSFamily, KernelName: si.KernelName, KernelRelease: si.KernelRelease,
		KernelVersion: si.KernelVersion, Architecture: si.Architecture, MemTotalMb: si.MemTotalMB,
		MemAvailableMb: si.MemAvailableMB, SwapTotalMb: si.SwapTotalMB, DiskTotalGb: si.DiskTotalGB,
		DiskUsedGb: si.DiskUsedGB, DiskFreeGb: si.DiskFreeGB, Hostname: si.Hostname, Fqdn: si.FQDN,
		SelinuxStatus: si.SELinuxStatus, ApparmorEnabled: si.AppArmorEnabled, FirewallService: si.FirewallService,
		FirewallStatus: si.FirewallStatus, ContentHash: hash, CollectedAt: now,
	}
}

// SystemInfo returns a host's latest system information. Guarded by host:read.
// Errors: resource.not_found (unknown host, or its system info never collected).
func (s *Service) SystemInfo(ctx context.Context, hostID uuid.UUID) (dbq.HostSystemInfo, error) {
	if err := s.checkHost(ctx, hostID); err != nil {
		return dbq.HostSystemInfo{}, err
	}
	row, err := s.q.IntelSystemInfoGet(ctx, hostID)
	return row, pg.NotFoundAs(err, errNoSystemInfo())
}
