package intel

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Connector opens SSH connections to inventory hosts; *hostssh.Connector implements it.
type Connector interface {
	Connect(ctx context.Context, hostID uuid.UUID) (*hostssh.Conn, error)
}

// Enqueuer inserts background jobs; *river.Client[pgx.Tx] implements it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Service runs system info and intelligence collection and serves their results.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	aw    *audit.Writer
	hosts *host.Service
	ssh   Connector
	jobs  Enqueuer
	log   *slog.Logger
	now   func() time.Time
	// schedulePeriod is how often the scheduler enqueues due hosts.
	schedulePeriod time.Duration
	// inventoryChanged runs in the transaction that stores a host's changed packages or
	// system facts (vulnerability matching of that host); nil: nothing runs.
	inventoryChanged InventoryChangedFunc
}

// InventoryChangedFunc is told, inside the storing transaction, that a host's package
// inventory or system facts changed.
type InventoryChangedFunc func(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) error

// Options are optional settings of NewService.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// SchedulePeriod is how often the scheduler looks for due hosts (default one minute;
	// the rate limits are per minute whatever the period).
	SchedulePeriod time.Duration
	// InventoryChanged, when set, runs in the transaction storing a host's changed packages
	// inventory or system facts.
	InventoryChanged InventoryChangedFunc
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, hosts *host.Service, ssh Connector, jobs Enqueuer, o Options) *Service {
	s := &Service{pool: pool, q: dbq.New(pool), aw: aw, hosts: hosts, ssh: ssh, jobs: jobs, log: o.Logger, now: o.Now,
		schedulePeriod: o.SchedulePeriod, inventoryChanged: o.InventoryChanged}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.schedulePeriod <= 0 {
		s.schedulePeriod = time.Minute
	}
	return s
}

func errHostNotFound() error { return apperr.NotFound("The host does not exist.") }

// checkHost fails with resource.not_found unless hostID names a live host.
func (s *Service) checkHost(ctx context.Context, hostID uuid.UUID) error {
	ok, err := s.q.IntelHostExists(ctx, hostID)
	if err != nil {
		return pg.Translate(err)
	}
	if !ok {
		return errHostNotFound()
	}
	return nil
}

// Lock kinds: one system info and one intelligence collection of a host may run at a time,
// in the whole cluster.
const (
	lockSystemInfo = "discovery"
	lockIntel      = "intelligence"
)

func lockKey(kind string, hostID uuid.UUID) int64 {
	return pg.AdvisoryKey("openwatch:intel:" + kind + ":" + hostID.String())
}

// lockHost takes the cluster-wide lock of (kind, host) and returns its release. host.busy
// when another process or request holds it.
func (s *Service) lockHost(ctx context.Context, kind string, hostID uuid.UUID) (func(), error) {
	release, ok, err := pg.TryAdvisoryLock(ctx, s.pool, lockKey(kind, hostID))
	if err != nil {
		return nil, err
	}
	if !ok {
		what := "A discovery"
		if kind == lockIntel {
			what = "An intelligence collection"
		}
		return nil, apperr.New(apperr.CodeHostBusy, what+" of this host is already running; try again when it has finished.").
			WithDetail("host_id", hostID.String())
	}
	return release, nil
}

// onHost runs one system info or intelligence collection (kind) of a host: it takes the
// host's lock of kind, opens one SSH connection, runs cmds in one session and hands the
// result to store, all under the lock. A failed connection or batch is recorded as an
// attempt (attempted) so the scheduler does not retry the host at once.
func (s *Service) onHost(ctx context.Context, kind string, hostID uuid.UUID, cmds []sshx.Command,
	attempted func(context.Context, time.Time) error, store func(sshx.BatchResult, Stats) error) error {
	if err := s.checkHost(ctx, hostID); err != nil {
		return err
	}
	release, err := s.lockHost(ctx, kind, hostID)
	if err != nil {
		return err
	}
	defer release()
	conn, err := s.ssh.Connect(ctx, hostID)
	if err != nil {
		s.recordAttempt(ctx, attempted)
		return err
	}
	defer func() { _ = conn.Close() }()
	br, err := conn.RunBatch(ctx, cmds, sshx.BatchOptions{Privileged: true, FallbackUnprivileged: true})
	if err != nil {
		s.recordAttempt(ctx, attempted)
		return err
	}
	return store(br, Stats{Sessions: conn.SessionsOpened(), Privilege: br.Privilege})
}

// recordAttempt stores the time of a failed attempt; a failure to store it is only logged.
func (s *Service) recordAttempt(ctx context.Context, record func(context.Context, time.Time) error) {
	if err := record(context.WithoutCancel(ctx), s.now()); err != nil {
		s.log.WarnContext(ctx, "record failed intel attempt", slog.Any("error", pg.Translate(err)))
	}
}

// isRoot reports whether a batch's commands ran as root.
func isRoot(p sshx.Privilege) bool {
	return p == sshx.PrivRoot || p == sshx.PrivSudo || p == sshx.PrivSudoPassword
}

// Stats describe the SSH work of one system info or intelligence collection.
type Stats struct {
	// Sessions is how many SSH sessions the job opened.
	Sessions int
	// Privilege is how the commands ran.
	Privilege sshx.Privilege
}

// noHostErr turns a vanished host into resource.not_found.
func noHostErr(err error) error {
	return pg.NotFoundAs(err, errHostNotFound())
}
