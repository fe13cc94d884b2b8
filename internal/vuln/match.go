package vuln

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/vuln/version"
)

// The resolutions of a closed exposure.
const (
	ResolutionFixed       = "fixed"
	ResolutionWithdrawn   = "withdrawn"
	ResolutionNotAffected = "not_affected"
	ResolutionRemoved     = "removed"
)

// pairChunk is how many (release, package) pairs one matching round reads and writes: a
// package every host has brings one row per host, so rounds stay small to bound memory.
const pairChunk = 64

// writeChunk bounds the rows of one multi-row statement.
const writeChunk = 5000

// pair is a release and a package name: the unit matching recomputes.
type pair struct{ release, pkg string }

// MatchStats counts what a matching run did.
type MatchStats struct {
	Pairs    int
	Opened   int
	Resolved int
	Updated  int
}

func (m *MatchStats) add(o MatchStats) {
	m.Pairs += o.Pairs
	m.Opened += o.Opened
	m.Resolved += o.Resolved
	m.Updated += o.Updated
}

// rangeSet is an affected entry decoded for evaluation.
type rangeSet struct {
	advisory string
	ranges   [][]osvEvent
	versions []string
}

// evaluate says whether installed version v of a package of release rel is affected by r,
// and the lowest fixed version above v in the affecting range ("" when the record names
// none); a release without a version ordering, or an installed version it cannot read,
// matches nothing. It follows the OSV evaluation: events in version order, the last one at or
// below v decides (introduced: affected; fixed: not; last_affected: affected up to and
// including it); an explicit versions entry equal to v is affected.
func evaluate(rel string, r rangeSet, v string) (bool, string) {
	if !version.Valid(rel, v) {
		return false, "" // no ordering for the release, or an installed version it cannot read
	}
	cmp := func(a, b string) (int, bool) {
		n, err := version.Compare(rel, a, b)
		return n, err == nil
	}
	for _, ex := range r.versions {
		if n, ok := cmp(v, ex); ok && n == 0 {
			return true, lowestFixedAbove(rel, r.ranges, v)
		}
	}
	for _, events := range r.ranges {
		evs := slices.Clone(events)
		valid := true
		sort.SliceStable(evs, func(i, j int) bool {
			a, b := eventVersion(evs[i]), eventVersion(evs[j])
			if a == "0" || b == "0" {
				return a == "0" && b != "0"
			}
			n, ok := cmp(a, b)
			if !ok {
				valid = false
			}
			return n < 0
		})
		if !valid {
			continue
		}
		affected := false
		fixed := ""
		for _, e := range evs {
			switch {
			case e.Introduced != "":
				if e.Introduced == "0" {
					affected = true
				} else if n, ok := cmp(v, e.Introduced); ok && n >= 0 {
					affected = true
				}
			case e.Fixed != "":
				n, ok := cmp(v, e.Fixed)
				if ok && n >= 0 {
					affected = false
				} else if ok && affected && fixed == "" {
					fixed = e.Fixed
				}
			case e.LastAffected != "":
				if n, ok := cmp(v, e.LastAffected); ok && n > 0 {
					affected = false
				}
			case e.Limit != "":
				if n, ok := cmp(v, e.Limit); ok && n >= 0 {
					affected = false
				}
			}
		}
		if affected {
			return true, fixed
		}
	}
	return false, ""
}

func eventVersion(e osvEvent) string {
	for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
		if s != "" {
			return s
		}
	}
	return ""
}

func lowestFixedAbove(rel string, ranges [][]osvEvent, v string) string {
	best := ""
	for _, evs := range ranges {
		for _, e := range evs {
			if e.Fixed == "" {
				continue
			}
			if n, err := version.Compare(rel, e.Fixed, v); err != nil || n <= 0 {
				continue
			}
			if best == "" {
				best = e.Fixed
			} else if n, err := version.Compare(rel, e.Fixed, best); err == nil && n < 0 {
				best = e.Fixed
			}
		}
	}
	return best
}

// exposureKey names one exposure.
type exposureKey struct {
	host     uuid.UUID
	advisory string
	pkg      string
}

type wanted struct {
	release   string
	installed string
	fixed     string
	binaries  []string
}

type stored struct {
	installed string
	fixed     *string
	binaries  []string
	resolved  bool
}

// installedKey is a package on a host.
type installedKey struct {
	host uuid.UUID
	pkg  string
}

// compute evaluates the installed packages against the affected entries.
func compute(pkgs []dbq.VulnHostPackage, affected []dbq.VulnAffectedForPairsRow) (map[exposureKey]wanted, map[installedKey][]string, error) {
	byPair := map[pair][]rangeSet{}
	for _, a := range affected {
		var ranges [][]osvEvent
		if err := json.Unmarshal(a.Ranges, &ranges); err != nil {
			return nil, nil, fmt.Errorf("decode ranges of %s: %w", a.AdvisoryID, err)
		}
		k := pair{a.Release, a.Package}
		byPair[k] = append(byPair[k], rangeSet{advisory: a.AdvisoryID, ranges: ranges, versions: a.Versions})
	}
	// Hosts of a fleet share versions: evaluate each (release, package, version) once.
	type verdict struct {
		advisory, fixed string
	}
	memo := map[[3]string][]verdict{}
	want := map[exposureKey]wanted{}
	installed := map[installedKey][]string{}
	for _, p := range pkgs {
		ik := installedKey{p.HostID, p.Name}
		installed[ik] = append(installed[ik], p.Version)
		sets := byPair[pair{p.Release, p.Name}]
		if len(sets) == 0 {
			continue
		}
		mk := [3]string{p.Release, p.Name, p.Version}
		vs, ok := memo[mk]
		if !ok {
			vs = []verdict{}
			for _, rs := range sets {
				if hit, fixed := evaluate(p.Release, rs, p.Version); hit {
					vs = append(vs, verdict{rs.advisory, fixed})
				}
			}
			memo[mk] = vs
		}
		for _, v := range vs {
			k := exposureKey{p.HostID, v.advisory, p.Name}
			if w, dup := want[k]; dup {
				// Two installed versions of one source package: keep the lower, which the
				// fix must reach, with the binaries of both.
				if n, err := version.Compare(p.Release, p.Version, w.installed); err == nil && n < 0 {
					w.installed, w.fixed = p.Version, v.fixed
				}
				w.binaries = append(w.binaries, p.Binaries...)
				want[k] = w
				continue
			}
			want[k] = wanted{release: p.Release, installed: p.Version, fixed: v.fixed, binaries: p.Binaries}
		}
	}
	return want, installed, nil
}

// apply writes the difference between the stored exposures of the recomputed units and
// the wanted ones: new exposures opened, resolved ones reopened, changed ones updated,
// and open ones no longer wanted resolved with the reason.
func apply(ctx context.Context, tx pgx.Tx, have map[exposureKey]stored, want map[exposureKey]wanted,
	installed map[installedKey][]string, now time.Time) (MatchStats, error) {
	q := dbq.New(tx)
	var st MatchStats
	var ins [][]any
	var sets []dbq.VulnExposureSetParams
	flushInsert := func() error {
		err := copyRows(ctx, tx, "vuln_exposures", exposureColumns, ins)
		ins = ins[:0]
		return err
	}
	keys := make([]exposureKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		w := want[k]
		h, ok := have[k]
		if !ok {
			ins = append(ins, []any{k.host, k.advisory, k.pkg, w.release, w.installed, nonNil(w.binaries), ptrOrNil(w.fixed), now, now})
			st.Opened++
			if len(ins) >= writeChunk {
				if err := flushInsert(); err != nil {
					return st, err
				}
			}
			continue
		}
		if !h.resolved && h.installed == w.installed && deref(h.fixed) == w.fixed && slices.Equal(h.binaries, w.binaries) {
			continue
		}
		if h.resolved {
			st.Opened++
		} else {
			st.Updated++
		}
		sets = append(sets, dbq.VulnExposureSetParams{HostID: k.host, AdvisoryID: k.advisory, Package: k.pkg, Release: w.release,
			InstalledVersion: w.installed, Binaries: nonNil(w.binaries), FixedVersion: ptrOrNil(w.fixed), At: now})
	}
	if err := flushInsert(); err != nil {
		return st, err
	}
	if err := execBatch(ctx, q.VulnExposureSet(ctx, sets)); err != nil {
		return st, err
	}
	var gone []exposureKey
	var goneIDs []string
	for k, h := range have {
		if _, ok := want[k]; !ok && !h.resolved {
			gone = append(gone, k)
			goneIDs = append(goneIDs, k.advisory)
		}
	}
	if len(gone) == 0 {
		return st, nil
	}
	sortKeys(gone)
	withdrawnIDs, err := q.VulnAdvisoriesWithdrawn(ctx, uniq(goneIDs))
	if err != nil {
		return st, err
	}
	withdrawn := map[string]bool{}
	for _, id := range withdrawnIDs {
		withdrawn[id] = true
	}
	res := make([]dbq.VulnExposureResolveParams, 0, len(gone))
	for _, k := range gone {
		reason := ResolutionNotAffected
		vs, present := installed[installedKey{k.host, k.pkg}]
		switch {
		case withdrawn[k.advisory]:
			reason = ResolutionWithdrawn
		case !present:
			reason = ResolutionRemoved
		case !slices.Contains(vs, have[k].installed):
			reason = ResolutionFixed
		}
		res = append(res, dbq.VulnExposureResolveParams{HostID: k.host, AdvisoryID: k.advisory, Package: k.pkg, At: now, Resolution: reason})
	}
	st.Resolved = len(res)
	return st, execBatch(ctx, q.VulnExposureResolve(ctx, res))
}

// batchResult is a generated :batchexec result.
type batchResult interface {
	Exec(func(int, error))
	Close() error
}

func execBatch(ctx context.Context, br batchResult) error {
	var first error
	br.Exec(func(_ int, err error) {
		if err != nil && first == nil {
			first = err
		}
	})
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	_ = ctx
	return first
}

func sortKeys(keys []exposureKey) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if c := strings.Compare(a.host.String(), b.host.String()); c != 0 {
			return c < 0
		}
		if a.advisory != b.advisory {
			return a.advisory < b.advisory
		}
		return a.pkg < b.pkg
	})
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// matchPairs recomputes the exposures of every host for the given (release, package)
// pairs, a chunk at a time. The caller holds VulnMatchLock.
func matchPairs(ctx context.Context, tx pgx.Tx, pairs []pair, now time.Time) (MatchStats, error) {
	q := dbq.New(tx)
	var total MatchStats
	for start := 0; start < len(pairs); start += pairChunk {
		chunk := pairs[start:min(start+pairChunk, len(pairs))]
		rels := make([]string, len(chunk))
		pkgNames := make([]string, len(chunk))
		for i, p := range chunk {
			rels[i], pkgNames[i] = p.release, p.pkg
		}
		pkgs, err := q.VulnHostPackagesForPairs(ctx, dbq.VulnHostPackagesForPairsParams{Releases: rels, Packages: pkgNames})
		if err != nil {
			return total, pg.Translate(err)
		}
		affected, err := q.VulnAffectedForPairs(ctx, dbq.VulnAffectedForPairsParams{Releases: rels, Packages: pkgNames})
		if err != nil {
			return total, pg.Translate(err)
		}
		rows, err := q.VulnExposuresForPairs(ctx, dbq.VulnExposuresForPairsParams{Releases: rels, Packages: pkgNames})
		if err != nil {
			return total, pg.Translate(err)
		}
		have := make(map[exposureKey]stored, len(rows))
		for _, r := range rows {
			have[exposureKey{r.HostID, r.AdvisoryID, r.Package}] = stored{installed: r.InstalledVersion, fixed: r.FixedVersion,
				binaries: r.Binaries, resolved: r.ResolvedAt != nil}
		}
		want, installed, err := compute(pkgs, affected)
		if err != nil {
			return total, err
		}
		st, err := apply(ctx, tx, have, want, installed, now)
		if err != nil {
			return total, pg.Translate(err)
		}
		st.Pairs = len(chunk)
		total.add(st)
	}
	return total, nil
}

// matchHost recomputes every exposure of one host from its stored packages.
func matchHost(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, now time.Time) (MatchStats, error) {
	q := dbq.New(tx)
	pkgs, err := q.VulnHostPackagesOfHost(ctx, hostID)
	if err != nil {
		return MatchStats{}, pg.Translate(err)
	}
	rels := make([]string, 0, len(pkgs))
	names := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		rels = append(rels, p.Release)
		names = append(names, p.Name)
	}
	affected, err := q.VulnAffectedForPairs(ctx, dbq.VulnAffectedForPairsParams{Releases: rels, Packages: names})
	if err != nil {
		return MatchStats{}, pg.Translate(err)
	}
	rows, err := q.VulnExposuresOfHostAll(ctx, hostID)
	if err != nil {
		return MatchStats{}, pg.Translate(err)
	}
	have := make(map[exposureKey]stored, len(rows))
	for _, r := range rows {
		have[exposureKey{r.HostID, r.AdvisoryID, r.Package}] = stored{installed: r.InstalledVersion, fixed: r.FixedVersion,
			binaries: r.Binaries, resolved: r.ResolvedAt != nil}
	}
	want, installed, err := compute(pkgs, affected)
	if err != nil {
		return MatchStats{}, err
	}
	st, err := apply(ctx, tx, have, want, installed, now)
	return st, pg.Translate(err)
}
