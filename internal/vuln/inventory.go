package vuln

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/vuln/version"
)

// installedPackage is one entry of intelligence's packages category (internal/intel
// Package); Source and SourceVersion are absent in inventories collected before they
// were.
type installedPackage struct {
	Version       string `json:"version"`
	Arch          string `json:"arch"`
	Source        string `json:"source"`
	SourceVersion string `json:"source_version"`
}

type hostPackage struct {
	name, version string
	binaries      []string
}

// hostPackages turns a packages inventory into the names and versions matching compares
// for release rel: dpkg releases by source package (Debian and Ubuntu records name source
// packages) at the source version; rpm releases by binary name and, when it differs, by
// source package name, both at the installed EVR.
func hostPackages(rel string, raw []byte) ([]hostPackage, error) {
	var inv map[string]installedPackage
	if err := json.Unmarshal(raw, &inv); err != nil {
		return nil, fmt.Errorf("decode packages inventory: %w", err)
	}
	type key struct{ name, version string }
	out := map[key][]string{}
	scheme := version.SchemeOf(rel)
	for k, p := range inv {
		bin := k
		if p.Arch != "" {
			bin = strings.TrimSuffix(k, ":"+p.Arch)
		}
		if p.Version == "" {
			continue
		}
		switch scheme {
		case version.Dpkg:
			name, ver := bin, p.Version
			if p.Source != "" {
				name = p.Source
			}
			if p.SourceVersion != "" {
				ver = p.SourceVersion
			}
			out[key{name, ver}] = append(out[key{name, ver}], bin)
		case version.Rpm:
			out[key{bin, p.Version}] = append(out[key{bin, p.Version}], bin)
			if p.Source != "" && p.Source != bin {
				out[key{p.Source, p.Version}] = append(out[key{p.Source, p.Version}], bin)
			}
		}
	}
	pkgs := make([]hostPackage, 0, len(out))
	for k, bins := range out {
		sort.Strings(bins)
		pkgs = append(pkgs, hostPackage{k.name, k.version, bins})
	}
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].name != pkgs[j].name {
			return pkgs[i].name < pkgs[j].name
		}
		return pkgs[i].version < pkgs[j].version
	})
	return pkgs, nil
}

// refreshHost rebuilds a host's matching packages from its stored inventory and release
// and recomputes its exposures. The caller holds VulnMatchLock (shared or exclusive).
func refreshHost(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, now time.Time) (MatchStats, error) {
	q := dbq.New(tx)
	inv, err := q.VulnHostInventory(ctx, hostID)
	if err := pg.Translate(err); apperr.Is(err, apperr.CodeNotFound) {
		return MatchStats{}, nil // deleted meanwhile: its rows go with it
	} else if err != nil {
		return MatchStats{}, err
	}
	rel := HostRelease(deref(inv.OsID), deref(inv.OsVersion))
	if err := q.VulnHostPackagesDelete(ctx, hostID); err != nil {
		return MatchStats{}, pg.Translate(err)
	}
	if rel != "" && inv.Packages != nil {
		pkgs, err := hostPackages(rel, inv.Packages)
		if err != nil {
			return MatchStats{}, err
		}
		rows := make([][]any, 0, len(pkgs))
		for _, hp := range pkgs {
			rows = append(rows, []any{hostID, rel, hp.name, hp.version, hp.binaries})
		}
		if err := copyRows(ctx, tx, "vuln_host_packages", hostPackageColumns, rows); err != nil {
			return MatchStats{}, err
		}
	}
	if err := q.VulnHostStateUpsert(ctx, dbq.VulnHostStateUpsertParams{HostID: hostID, Release: ptrOrNil(rel),
		PackagesHash: inv.PackagesHash, At: now}); err != nil {
		return MatchStats{}, pg.Translate(err)
	}
	return matchHost(ctx, tx, hostID, now)
}

// bulkSync is how many stale hosts make syncHosts rebuild in bulk and match every
// package again rather than one host at a time.
const bulkSync = 50

// syncBatch is how many hosts' inventories one bulk round reads.
const syncBatch = 200

// syncHosts refreshes every live host whose release or inventory changed since matching
// last saw it (a host collected before this feature, or one whose hook did not run), so a
// match never works from a stale inventory. It reads stored facts only: no host is
// contacted. Many stale hosts (a first import on an existing fleet) are rebuilt in bulk and
// matched by package over the whole fleet. The caller holds VulnMatchLock exclusively.
func syncHosts(ctx context.Context, tx pgx.Tx, now time.Time) (int, MatchStats, error) {
	q := dbq.New(tx)
	rows, err := q.VulnHostsState(ctx)
	if err != nil {
		return 0, MatchStats{}, pg.Translate(err)
	}
	var stale []uuid.UUID
	for _, r := range rows {
		rel := HostRelease(deref(r.OsID), deref(r.OsVersion))
		if r.Seen && deref(r.SeenRelease) == rel && deref(r.SeenPackagesHash) == deref(r.PackagesHash) {
			continue
		}
		stale = append(stale, r.ID)
	}
	var total MatchStats
	if len(stale) < bulkSync {
		for _, id := range stale {
			st, err := refreshHost(ctx, tx, id, now)
			if err != nil {
				return 0, total, err
			}
			total.add(st)
		}
		return len(stale), total, nil
	}
	for start := 0; start < len(stale); start += syncBatch {
		if err := rebuildHosts(ctx, tx, stale[start:min(start+syncBatch, len(stale))], now); err != nil {
			return 0, total, err
		}
	}
	pairs, err := q.VulnAffectedPairs(ctx)
	if err != nil {
		return 0, total, pg.Translate(err)
	}
	all := make([]pair, len(pairs))
	for i, p := range pairs {
		all[i] = pair{p.Release, p.Package}
	}
	st, err := matchPairs(ctx, tx, all, now)
	return len(stale), st, err
}

// rebuildHosts rebuilds the matching packages of a batch of hosts (no matching).
func rebuildHosts(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, now time.Time) error {
	q := dbq.New(tx)
	invs, err := q.VulnHostInventories(ctx, ids)
	if err != nil {
		return pg.Translate(err)
	}
	if err := q.VulnHostPackagesDeleteMany(ctx, ids); err != nil {
		return pg.Translate(err)
	}
	var rows [][]any
	flush := func() error {
		err := copyRows(ctx, tx, "vuln_host_packages", hostPackageColumns, rows)
		rows = rows[:0]
		return err
	}
	var state dbq.VulnHostStateUpsertManyParams
	for _, inv := range invs {
		rel := HostRelease(deref(inv.OsID), deref(inv.OsVersion))
		state.HostIds = append(state.HostIds, inv.ID)
		state.Releases = append(state.Releases, rel)
		state.Hashes = append(state.Hashes, deref(inv.PackagesHash))
		if rel == "" || inv.Packages == nil {
			continue
		}
		pkgs, err := hostPackages(rel, inv.Packages)
		if err != nil {
			return err
		}
		for _, hp := range pkgs {
			rows = append(rows, []any{inv.ID, rel, hp.name, hp.version, hp.binaries})
			if len(rows) >= writeChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	state.At = now
	return pg.Translate(q.VulnHostStateUpsertMany(ctx, state))
}
