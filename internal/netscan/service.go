package netscan

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/intel"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// DefaultPort is the port scanned when a request names none.
const DefaultPort = 22

// Enqueuer inserts background jobs; *river.Client[pgx.Tx] satisfies it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// BannerFunc reads the SSH banner at addr (host:port); (*sshx.Dialer).Banner is the real one.
type BannerFunc func(ctx context.Context, addr string, timeout time.Duration) (string, time.Duration, error)

// Options tune the scanner; zero values take the defaults.
type Options struct {
	// Concurrency is how many probes of one scan run at once (default 64).
	Concurrency int
	// ProbeTimeout bounds one TCP connect and banner read (default 2 s).
	ProbeTimeout time.Duration
	// ProgressEvery is how often a running scan records its progress (default 1 s).
	ProgressEvery time.Duration
	// Banner reads banners: the Banner method of the dialer that refuses addresses outside
	// ssh.allowed_networks. Nil reaches loopback only (sshx.Loopback).
	Banner BannerFunc
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Concurrency < 1 {
		o.Concurrency = 64
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 2 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Banner == nil {
		o.Banner = sshx.Loopback().Banner
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Service runs network scans.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	jobs  Enqueuer
	hosts *host.Service
	opts  Options
}

// NewService returns the scan service; jobs enqueues scans and hosts registers what they
// found.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, jobs Enqueuer, hosts *host.Service, opts Options) *Service {
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, jobs: jobs, hosts: hosts, opts: opts.withDefaults()}
}

// Scan is a scan with the servers it found so far (ordered by address and port).
type Scan struct {
	dbq.DiscoveryScan
	Hosts []dbq.DiscoveryScanHost
}

// normalisePorts returns ports sorted and deduplicated, [DefaultPort] when empty.
func normalisePorts(ports []int) ([]int32, error) {
	if len(ports) == 0 {
		return []int32{DefaultPort}, nil
	}
	out := make([]int32, 0, len(ports))
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return nil, apperr.Invalid("ports", "ports must be between 1 and 65535")
		}
		out = append(out, int32(p))
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 16 {
		return nil, apperr.Invalid("ports", "at most 16 ports may be scanned")
	}
	return out, nil
}

// Start validates the network, records a queued scan and enqueues its job in one
// transaction. Guarded by host:write. Errors: validation_failed (cidr, ports),
// discovery.range_too_large (detail size, max).
func (s *Service) Start(ctx context.Context, actor *authz.Principal, cidr string, ports []int) (Scan, error) {
	prefix, err := parseNetwork("cidr", cidr)
	if err != nil {
		return Scan{}, err
	}
	portList, err := normalisePorts(ports)
	if err != nil {
		return Scan{}, err
	}
	// max_cidr_hosts belongs to the discovery configuration (package intel serves it).
	cfg, err := intel.LoadSystemInfoConfig(ctx, s.pool)
	if err != nil {
		return Scan{}, err
	}
	limit := cfg.MaxCIDRHosts
	if size := networkSize(prefix); !size.IsInt64() || size.Int64() > int64(limit) {
		return Scan{}, apperr.New(apperr.CodeRangeTooLarge,
			fmt.Sprintf("The network %s spans %s addresses; scans are limited to %d.", prefix, size, limit)).
			WithDetail("size", size).WithDetail("max", limit).WithDetail("field", "cidr")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Scan{}, apperr.Internal(err)
	}
	total := countAddresses(prefix) * int64(len(portList))
	var row dbq.DiscoveryScan
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = dbq.New(tx).NetscanInsert(ctx, dbq.NetscanInsertParams{
			ID: id, Cidr: prefix.String(), Ports: portList, Total: total, CreatedBy: actor.Actor().String()})
		if err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, ScanArgs{ScanID: id, Total: total}, nil); err != nil {
			return fmt.Errorf("enqueue scan: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionDiscoveryScanStarted, "discovery_scan", id.String(),
			map[string]any{"cidr": prefix.String(), "ports": portList, "total": total}))
	})
	if err != nil {
		return Scan{}, err
	}
	return Scan{DiscoveryScan: row}, nil
}

func errScanNotFound() error { return apperr.NotFound("The scan does not exist.") }

// Get returns a scan and the servers it found. Guarded by host:read.
// Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Scan, error) {
	row, err := s.q.NetscanGet(ctx, id)
	if err != nil {
		return Scan{}, pg.NotFoundAs(err, errScanNotFound())
	}
	hosts, err := s.q.NetscanHosts(ctx, id)
	if err != nil {
		return Scan{}, pg.Translate(err)
	}
	return Scan{DiscoveryScan: row, Hosts: hosts}, nil
}

// RegisterInput is what a registration may set; empty fields take the defaults (hostname
// = the address).
type RegisterInput struct {
	Hostname    string
	DisplayName string
	Environment string
	Tags        []string
	GroupID     *uuid.UUID
	Username    string
}

// Register creates a host for an address the scan found, on the port it answered on (22
// when it answered there, else the lowest), and marks the address registered, in one
// transaction (RegisterTx). Guarded by host:write. Errors: validation_failed (address),
// resource.not_found (scan or address), resource.conflict (already registered, or hostname
// taken).
func (s *Service) Register(ctx context.Context, actor *authz.Principal, scanID uuid.UUID, address string, in RegisterInput) (host.Host, error) {
	var h host.Host
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		h, err = s.RegisterTx(ctx, tx, actor, scanID, address, in)
		return err
	})
	return h, err
}

// RegisterTx is Register inside the caller's transaction. The address's rows are locked
// first, so a concurrent registration of the same address waits and then finds it
// registered (a conflict) instead of creating a second host.
func (s *Service) RegisterTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, scanID uuid.UUID, address string, in RegisterInput) (host.Host, error) {
	addr, err := parseAddress("address", address)
	if err != nil {
		return host.Host{}, err
	}
	q := dbq.New(tx)
	port, err := registrablePort(ctx, q, scanID, addr)
	if err != nil {
		return host.Host{}, err
	}
	if in.Hostname == "" {
		in.Hostname = addr.String()
	}
	h, err := s.hosts.CreateTx(ctx, tx, actor, host.CreateInput{
		Hostname: in.Hostname, IPAddress: addr.String(), Port: int(port), DisplayName: in.DisplayName,
		Environment: in.Environment, Tags: in.Tags, GroupID: in.GroupID, Username: in.Username,
	})
	if err != nil {
		return host.Host{}, err
	}
	if err := q.NetscanRegistered(ctx, dbq.NetscanRegisteredParams{ScanID: scanID, Address: addr, HostID: &h.ID}); err != nil {
		return host.Host{}, pg.Translate(err)
	}
	return h, s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionDiscoveryRegistered, "discovery_scan", scanID.String(),
		map[string]any{"address": addr.String(), "port": port, "host_id": h.ID.String(), "hostname": h.Hostname}))
}

// registrablePort locks the rows of an address of a scan and returns the port to register
// it on, or why it cannot be registered.
func registrablePort(ctx context.Context, q *dbq.Queries, scanID uuid.UUID, addr netip.Addr) (int32, error) {
	rows, err := q.NetscanAddressHosts(ctx, dbq.NetscanAddressHostsParams{ScanID: scanID, Address: addr})
	if err != nil {
		return 0, pg.Translate(err)
	}
	if len(rows) == 0 {
		return 0, apperr.NotFound(fmt.Sprintf("The scan did not find %s (or the scan does not exist).", addr))
	}
	port := rows[0].Port // the lowest
	for _, r := range rows {
		if r.RegisteredHostID != nil {
			return 0, apperr.Conflict(fmt.Sprintf("%s is already registered.", addr)).WithDetail("host_id", r.RegisteredHostID.String())
		}
		if r.Port == DefaultPort {
			port = r.Port
		}
	}
	return port, nil
}
