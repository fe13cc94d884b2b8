package support

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/pg"
)

// ManifestName is the bundle's table of contents.
const ManifestName = "MANIFEST.json"

// LogSource gives the process's recent log lines (logging.Ring).
type LogSource interface {
	Snapshot() []byte
}

// File is one file of the bundle.
type File struct {
	Name string
	Data []byte
}

// Options are what a bundle is built from besides the database.
type Options struct {
	Config config.Config
	// Logs, when set, gives the recent log lines; Metrics, when set, the metrics snapshot.
	// Without one the bundle holds a note saying so.
	Logs    LogSource
	Metrics prometheus.Gatherer
	// Extra, when set, returns more files (the command adds the managed database's log).
	Extra  func() []File
	Logger *slog.Logger
	Now    func() time.Time
}

// Service builds bundles.
type Service struct {
	pool *pgxpool.Pool
	aw   *audit.Writer
	o    Options
}

// NewService returns the service; aw may be nil for a bundle nobody audits (tests).
func NewService(pool *pgxpool.Pool, aw *audit.Writer, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{pool: pool, aw: aw, o: o}
}

// Bundle is a built support bundle.
type Bundle struct {
	// Name is the file name: openwatch-sysdump-<UTC time>.tar.gz.
	Name     string
	Data     []byte
	Manifest Manifest
}

// Manifest lists the files of a bundle.
type Manifest struct {
	CreatedAt time.Time       `json:"created_at"`
	Version   string          `json:"version"`
	Files     []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of the bundle.
type ManifestEntry struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Create builds a bundle for actor (support:sysdump) and audits it
// (support.sysdump_created, with the files it holds).
func (s *Service) Create(ctx context.Context, actor *authz.Principal) (Bundle, error) {
	b, err := s.Build(ctx)
	if err != nil {
		return Bundle{}, err
	}
	if s.aw == nil {
		return b, nil
	}
	names := make([]string, len(b.Manifest.Files))
	for i, f := range b.Manifest.Files {
		names[i] = f.Name
	}
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSysdumpCreated, "system", "sysdump",
			map[string]any{"file": b.Name, "bytes": len(b.Data), "files": names}))
	})
	return b, pg.Translate(err)
}

// Build collects every file and packs them. A part that cannot be read (a table
// missing, the database refusing a statistics query) becomes a file saying why, so a
// half-broken installation still gives a bundle.
func (s *Service) Build(ctx context.Context) (Bundle, error) {
	now := s.o.Now().UTC()
	var files []File
	add := func(name string, data []byte) { files = append(files, File{Name: name, Data: data}) }
	addJSON := func(name string, v any, err error) {
		if err != nil {
			add(name+".error.txt", []byte(fmt.Sprintf("could not collect %s: %v\n", name, err)))
			return
		}
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			add(name+".error.txt", []byte(fmt.Sprintf("could not encode %s: %v\n", name, err)))
			return
		}
		add(name, append(data, '\n'))
	}

	var cfg bytes.Buffer
	cfg.WriteString("# resolved configuration, secrets redacted\n")
	if err := s.o.Config.WriteTOML(&cfg); err != nil {
		add("config.error.txt", []byte(err.Error()+"\n"))
	} else {
		add("config.toml", cfg.Bytes())
	}
	b := buildinfo.Get()
	addJSON("version.json", map[string]any{"version": b.Version, "commit": b.Commit, "build_time": b.BuildTime, "go": b.Go}, nil)
	addJSON("runtime.json", runtimeInfo(now), nil)

	var mig bytes.Buffer
	if err := pg.MigrationStatus(ctx, s.pool, &mig); err != nil {
		add("migrations.error.txt", []byte(err.Error()+"\n"))
	} else {
		add("migrations.txt", mig.Bytes())
	}

	if s.o.Metrics == nil {
		add("metrics.NOTE.txt", []byte("No metrics registry was available to this process, so no metrics snapshot was taken.\n"))
	} else if data, err := gatherText(s.o.Metrics); err != nil {
		add("metrics.error.txt", []byte(err.Error()+"\n"))
	} else {
		add("metrics.prom", data)
	}
	if s.o.Logs == nil {
		add("logs.NOTE.txt", []byte("This process keeps no recent log lines (the command runs outside the server); see the server's own log.\n"))
	} else {
		add("logs.jsonl", s.o.Logs.Snapshot())
	}

	tables, err := tableSizes(ctx, s.pool)
	addJSON("tables.json", tables, err)
	queue, err := queueState(ctx, s.pool, now)
	addJSON("queue.json", queue, err)
	hosts, err := hostSummary(ctx, s.pool)
	addJSON("hosts.json", hosts, err)
	live, err := livenessSummary(ctx, s.pool)
	addJSON("liveness.json", live, err)
	scans, err := scanSummary(ctx, s.pool)
	addJSON("scans.json", scans, err)
	if s.o.Extra != nil {
		files = append(files, s.o.Extra()...)
	}
	return pack(now, b.Version, files)
}

// pack writes files and their manifest into a gzip tarball under one directory.
func pack(now time.Time, version string, files []File) (Bundle, error) {
	stamp := now.Format("20060102T150405Z")
	dir := "openwatch-sysdump-" + stamp
	m := Manifest{CreatedAt: now, Version: version}
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, ManifestEntry{Name: f.Name, Size: len(f.Data), SHA256: hex.EncodeToString(sum[:])})
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Bundle{}, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range append([]File{{Name: ManifestName, Data: append(manifest, '\n')}}, files...) {
		hdr := &tar.Header{Name: dir + "/" + f.Name, Mode: 0o600, Size: int64(len(f.Data)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return Bundle{}, fmt.Errorf("write bundle: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return Bundle{}, fmt.Errorf("write bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return Bundle{}, fmt.Errorf("write bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return Bundle{}, fmt.Errorf("write bundle: %w", err)
	}
	return Bundle{Name: dir + ".tar.gz", Data: buf.Bytes(), Manifest: m}, nil
}

// gatherText renders a metrics snapshot in the Prometheus text exposition format.
func gatherText(g prometheus.Gatherer) ([]byte, error) {
	mfs, err := g.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode metrics: %w", err)
		}
	}
	return buf.Bytes(), nil
}

func runtimeInfo(now time.Time) map[string]any {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := map[string]any{
		"collected_at": now, "go_version": runtime.Version(), "goos": runtime.GOOS, "goarch": runtime.GOARCH,
		"gomaxprocs": runtime.GOMAXPROCS(0), "num_cpu": runtime.NumCPU(), "goroutines": runtime.NumGoroutine(),
		"memory": map[string]any{"heap_alloc_bytes": ms.HeapAlloc, "heap_inuse_bytes": ms.HeapInuse, "sys_bytes": ms.Sys,
			"total_alloc_bytes": ms.TotalAlloc, "num_gc": ms.NumGC, "memory_limit_bytes": debug.SetMemoryLimit(-1)},
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		out["main_module"] = bi.Main.Path
	}
	return out
}
