package vuln

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// maxRecordBytes bounds one OSV record (a zip entry or file); larger ones are rejected.
const maxRecordBytes = 16 << 20

// maxRejections bounds the rejections kept in an import's history row.
const maxRejections = 100

// storeBatch is how many changed records one round of writes stores.
const storeBatch = 2000

// Options tunes the service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// TempDir receives uploads while they are imported (default: the system's).
	TempDir string
}

// Service imports OSV feeds, keeps exposure matched and serves both.
type Service struct {
	pool    *pgxpool.Pool
	q       *dbq.Queries
	audit   *audit.Writer
	log     *slog.Logger
	now     func() time.Time
	tempDir string
}

// NewService returns the vulnerability service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, log: opts.Logger, now: opts.Now, tempDir: opts.TempDir}
}

// Rejection is a record an import refused, and why.
type Rejection struct {
	File   string `json:"file"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// ImportResult is what an import did, with the time each phase took.
type ImportResult struct {
	Import      dbq.VulnFeedImport
	Rejections  []Rejection
	HostsSynced int
	Match       MatchStats
	// CriticalAlerts counts the vulnerability_critical alerts the import raised.
	CriticalAlerts int
	Store          time.Duration
	Matching       time.Duration
}

// record is one file of a feed.
type record struct {
	name string
	open func() (io.ReadCloser, error)
}

// ImportPath imports the OSV records of path: a directory (every *.json below it), a zip
// of *.json records or one JSON file (a record or an array of records). source names the
// feed in the history (default: the file or directory name). actor is nil for the
// command line. Guarded by vulnerability:feed. Errors: validation_failed naming file for
// a path that is none of these.
func (s *Service) ImportPath(ctx context.Context, actor *authz.Principal, path, source string) (ImportResult, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ImportResult{}, apperr.Invalid("file", fmt.Sprintf("Cannot read %s: %v.", path, err))
	}
	if source == "" {
		source = filepath.Base(path)
	}
	if st.IsDir() {
		return s.importRecords(ctx, actor, source, filepath.Base(path), func(yield func(record) error) error {
			return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() || !strings.HasSuffix(strings.ToLower(d.Name()), ".json") {
					return nil
				}
				rel, _ := filepath.Rel(path, p)
				return yield(record{name: rel, open: func() (io.ReadCloser, error) { return os.Open(p) }})
			})
		})
	}
	return s.importFile(ctx, actor, path, source, filepath.Base(path))
}

// ImportUpload imports an uploaded feed (a zip or one JSON file, told apart by content),
// streamed to a temporary file first so memory stays flat whatever its size. Guarded by
// vulnerability:feed. Errors: validation_failed naming file for an empty or unreadable
// upload.
func (s *Service) ImportUpload(ctx context.Context, actor *authz.Principal, body io.Reader, fileName, source string) (ImportResult, error) {
	f, err := os.CreateTemp(s.tempDir, "osv-upload-*")
	if err != nil {
		return ImportResult{}, fmt.Errorf("create upload file: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	n, err := io.Copy(f, body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ImportResult{}, apperr.New(apperr.CodeBodyTooLarge, "The upload is larger than the limit.")
		}
		return ImportResult{}, apperr.Invalid("file", "The upload could not be read: "+err.Error())
	}
	if n == 0 {
		return ImportResult{}, apperr.Invalid("file", "The upload is empty: send a zip of OSV records or one OSV JSON record.")
	}
	if err := f.Close(); err != nil {
		return ImportResult{}, fmt.Errorf("write upload file: %w", err)
	}
	if fileName == "" {
		fileName = "upload"
	}
	if source == "" {
		source = fileName
	}
	return s.importFile(ctx, actor, f.Name(), source, fileName)
}

// importFile imports a zip or a JSON file.
func (s *Service) importFile(ctx context.Context, actor *authz.Principal, path, source, fileName string) (ImportResult, error) {
	head := make([]byte, 4)
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, apperr.Invalid("file", fmt.Sprintf("Cannot read %s: %v.", fileName, err))
	}
	k, _ := io.ReadFull(f, head)
	_ = f.Close()
	if k == 4 && bytes.Equal(head, []byte("PK\x03\x04")) {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return ImportResult{}, apperr.Invalid("file", "The zip archive is damaged: "+err.Error())
		}
		defer zr.Close()
		return s.importRecords(ctx, actor, source, fileName, func(yield func(record) error) error {
			for _, zf := range zr.File {
				if zf.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(zf.Name), ".json") {
					continue
				}
				if err := yield(record{name: zf.Name, open: zf.Open}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return s.importRecords(ctx, actor, source, fileName, func(yield func(record) error) error {
		return yield(record{name: fileName, open: func() (io.ReadCloser, error) { return os.Open(path) }})
	})
}

// importRecords stores the records walk yields and matches again the (release, package)
// pairs whose records changed, all in one transaction with the history row and the audit
// event. A record not newer (modified) than the stored one is unchanged and not
// rewritten; a record failing the checks is rejected with its reason; neither stops the
// import. A failure (a damaged zip, the database) rolls everything back and records a
// failed import.
func (s *Service) importRecords(ctx context.Context, actor *authz.Principal, source, fileName string,
	walk func(yield func(record) error) error) (ImportResult, error) {
	started := s.now().UTC()
	source = truncate(strings.TrimSpace(source), 200)
	var res ImportResult
	var imp dbqCounters
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := q.VulnMatchLock(ctx); err != nil {
			return pg.Translate(err)
		}
		known, err := q.VulnAdvisoryVersions(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		stored := make(map[string]time.Time, len(known))
		for _, k := range known {
			stored[k.ID] = k.Modified
		}
		changed := map[pair]bool{}
		var batch []Advisory
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := storeAdvisories(ctx, q, batch, source, s.now().UTC(), changed)
			batch = batch[:0]
			return err
		}
		storeStart := time.Now()
		err = walk(func(r record) error {
			a, reason, err := readRecord(r)
			if err != nil {
				return err
			}
			if reason != "" {
				imp.Rejected++
				if len(res.Rejections) < maxRejections {
					res.Rejections = append(res.Rejections, Rejection{File: r.name, ID: a.ID, Reason: reason})
				}
				return nil
			}
			for _, adv := range a.list {
				old, ok := stored[adv.ID]
				switch {
				case ok && !adv.Modified.After(old):
					imp.Unchanged++
					continue
				case adv.Withdrawn != nil:
					imp.Withdrawn++
				case ok:
					imp.Updated++
				default:
					imp.Added++
				}
				stored[adv.ID] = adv.Modified
				batch = append(batch, adv)
				if len(batch) >= storeBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		res.Store = time.Since(storeStart)
		matchStart := time.Now()
		now := s.now().UTC()
		synced, syncStats, err := syncHosts(ctx, tx, now)
		if err != nil {
			return err
		}
		res.HostsSynced = synced
		pairs := make([]pair, 0, len(changed))
		for p := range changed {
			pairs = append(pairs, p)
		}
		sort.Slice(pairs, func(i, j int) bool {
			if pairs[i].release != pairs[j].release {
				return pairs[i].release < pairs[j].release
			}
			return pairs[i].pkg < pairs[j].pkg
		})
		st, err := matchPairs(ctx, tx, pairs, now)
		if err != nil {
			return err
		}
		st.add(syncStats)
		st.Pairs = len(pairs)
		if res.CriticalAlerts, err = criticalAlerts(ctx, tx, s.audit, nil, now); err != nil {
			return err
		}
		res.Match = st
		res.Matching = time.Since(matchStart)
		rej, err := json.Marshal(nonNilRejections(res.Rejections))
		if err != nil {
			return err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		res.Import, err = q.VulnImportInsert(ctx, dbq.VulnImportInsertParams{ID: id, Source: source, FileName: truncate(fileName, 255),
			StartedAt: started, FinishedAt: s.now().UTC(), ImportedBy: actor.Actor().String(), Status: "succeeded",
			Added: imp.Added, Updated: imp.Updated, Unchanged: imp.Unchanged, Withdrawn: imp.Withdrawn, Rejected: imp.Rejected,
			RematchedPackages: int32(len(pairs)), ExposuresOpened: int32(st.Opened), ExposuresResolved: int32(st.Resolved),
			Rejections: rej})
		if err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionVulnFeedImported, "vulnerability_feed_import", id.String(),
			map[string]any{"source": source, "file_name": fileName, "added": imp.Added, "updated": imp.Updated,
				"unchanged": imp.Unchanged, "withdrawn": imp.Withdrawn, "rejected": imp.Rejected,
				"rematched_packages": len(pairs), "exposures_opened": st.Opened, "exposures_resolved": st.Resolved,
				"critical_alerts_raised": res.CriticalAlerts}))
	})
	if err != nil {
		s.recordFailure(ctx, actor, source, fileName, started, imp, res.Rejections, err)
		return ImportResult{}, err
	}
	return res, nil
}

// dbqCounters are the record counters of an import in progress.
type dbqCounters struct{ Added, Updated, Unchanged, Withdrawn, Rejected int32 }

func nonNilRejections(r []Rejection) []Rejection {
	if r == nil {
		return []Rejection{}
	}
	return r
}

// recordFailure keeps a failed import in the history, in a transaction of its own.
func (s *Service) recordFailure(ctx context.Context, actor *authz.Principal, source, fileName string, started time.Time,
	imp dbqCounters, rejections []Rejection, cause error) {
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	msg := cause.Error()
	if e := apperr.As(cause); e != nil {
		msg = e.HumanMessage()
	}
	rej, _ := json.Marshal(nonNilRejections(rejections))
	err := pg.WithOwnTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		_, err = dbq.New(tx).VulnImportInsert(ctx, dbq.VulnImportInsertParams{ID: id, Source: source, FileName: truncate(fileName, 255),
			StartedAt: started, FinishedAt: s.now().UTC(), ImportedBy: actor.Actor().String(), Status: "failed",
			Rejected: imp.Rejected, Rejections: rej, Error: &msg})
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record failed feed import", "error", err)
	}
}

// parsed is a file's records, or the reason it was rejected.
type parsed struct {
	ID   string
	list []Advisory
}

// readRecord reads one file: a record or an array of records. reason is set when the file
// (or a record of it) is rejected; err only for a failure that must stop the import.
func readRecord(r record) (parsed, string, error) {
	rc, err := r.open()
	if err != nil {
		return parsed{}, fmt.Sprintf("Cannot be read: %v.", err), nil
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(rc), maxRecordBytes+1))
	if err != nil {
		return parsed{}, fmt.Sprintf("Cannot be read: %v.", err), nil
	}
	if len(b) > maxRecordBytes {
		return parsed{}, fmt.Sprintf("Larger than %d MiB.", maxRecordBytes>>20), nil
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return parsed{}, fmt.Sprintf("Not a JSON array of OSV records: %v.", err), nil
		}
		var out parsed
		for i, raw := range raws {
			a, err := parseRecord(raw)
			if err != nil {
				return parsed{ID: a.ID}, fmt.Sprintf("Record %d: %v", i, err), nil
			}
			out.list = append(out.list, a)
		}
		return out, "", nil
	}
	a, err := parseRecord(trimmed)
	if err != nil {
		var probe struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(trimmed, &probe)
		return parsed{ID: truncate(probe.ID, 128)}, err.Error(), nil
	}
	return parsed{ID: a.ID, list: []Advisory{a}}, "", nil
}

// storeAdvisories writes a batch of changed records and their affected entries, adding the
// (release, package) pairs whose matching changes (old entries and new) to changed.
func storeAdvisories(ctx context.Context, q *dbq.Queries, batch []Advisory, source string, now time.Time, changed map[pair]bool) error {
	ups := make([]dbq.VulnAdvisoryUpsertParams, 0, len(batch))
	ids := make([]string, 0, len(batch))
	for _, a := range batch {
		ups = append(ups, dbq.VulnAdvisoryUpsertParams{ID: a.ID, Aliases: a.Aliases, Summary: a.Summary, Details: a.Details,
			Severity: a.Severity, CvssScore: a.CVSSScore, CvssVector: a.CVSSVector, Published: a.Published, Modified: a.Modified,
			Withdrawn: a.Withdrawn, Source: source, At: now})
		ids = append(ids, a.ID)
	}
	if err := execBatch(ctx, q.VulnAdvisoryUpsert(ctx, ups)); err != nil {
		return pg.Translate(err)
	}
	old, err := q.VulnAffectedDelete(ctx, ids)
	if err != nil {
		return pg.Translate(err)
	}
	for _, o := range old {
		changed[pair{o.Release, o.Package}] = true
	}
	var p dbq.VulnAffectedInsertParams
	for _, a := range batch {
		for _, af := range a.Affected {
			ranges, err := json.Marshal(nonNilRanges(af.Ranges))
			if err != nil {
				return err
			}
			p.AdvisoryIds = append(p.AdvisoryIds, a.ID)
			p.Releases = append(p.Releases, af.Release)
			p.Ecosystems = append(p.Ecosystems, af.Ecosystem)
			p.Packages = append(p.Packages, af.Package)
			p.Ranges = append(p.Ranges, string(ranges))
			p.Versions = append(p.Versions, strings.Join(af.Versions, "\n"))
			changed[pair{af.Release, af.Package}] = true
		}
	}
	for start := 0; start < len(p.AdvisoryIds); start += writeChunk {
		end := min(start+writeChunk, len(p.AdvisoryIds))
		if err := q.VulnAffectedInsert(ctx, dbq.VulnAffectedInsertParams{AdvisoryIds: p.AdvisoryIds[start:end],
			Releases: p.Releases[start:end], Ecosystems: p.Ecosystems[start:end], Packages: p.Packages[start:end],
			Ranges: p.Ranges[start:end], Versions: p.Versions[start:end]}); err != nil {
			return pg.Translate(err)
		}
	}
	return nil
}

func nonNilRanges(r [][]osvEvent) [][]osvEvent {
	if r == nil {
		return [][]osvEvent{}
	}
	return r
}

// HostInventoryChangedTx recomputes one host's exposures inside the caller's transaction
// (intelligence calls it when it stores a changed packages inventory or system facts):
// only that host, from the stored inventory, never by contacting it.
func (s *Service) HostInventoryChangedTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) error {
	q := dbq.New(tx)
	inv, err := q.VulnHostInventory(ctx, hostID)
	if err := pg.Translate(err); apperr.Is(err, apperr.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	seen, err := q.VulnHostStateGet(ctx, hostID)
	if err := pg.IgnoreNotFound(err); err != nil {
		return err
	}
	rel := HostRelease(deref(inv.OsID), deref(inv.OsVersion))
	if seen.HostID == hostID && deref(seen.Release) == rel && deref(seen.PackagesHash) == deref(inv.PackagesHash) {
		return nil // neither the release nor the inventory changed
	}
	if err := q.VulnMatchLockShared(ctx); err != nil {
		return pg.Translate(err)
	}
	now := s.now().UTC()
	if _, err = refreshHost(ctx, tx, hostID, now); err != nil {
		return err
	}
	_, err = criticalAlerts(ctx, tx, s.audit, &hostID, now)
	return err
}

// MatchAll recomputes every exposure from the stored inventories and advisories (after a
// restore, or to measure); imports and inventory changes keep exposure current without
// it. Returns the stats of the run.
func (s *Service) MatchAll(ctx context.Context) (MatchStats, error) {
	var st MatchStats
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := q.VulnMatchLock(ctx); err != nil {
			return pg.Translate(err)
		}
		now := s.now().UTC()
		_, syncStats, err := syncHosts(ctx, tx, now)
		if err != nil {
			return err
		}
		rows, err := q.VulnAffectedPairs(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		pairs := make([]pair, len(rows))
		for i, r := range rows {
			pairs[i] = pair{r.Release, r.Package}
		}
		st, err = matchPairs(ctx, tx, pairs, now)
		st.add(syncStats)
		if err != nil {
			return err
		}
		_, err = criticalAlerts(ctx, tx, s.audit, nil, now)
		return err
	})
	return st, err
}
