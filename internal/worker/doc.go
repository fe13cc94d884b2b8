// Package worker runs OpenWatch's background jobs on River (github.com/riverqueue/river,
// driver riverpgxv5): one River client per process, built by internal/app from the
// [worker] configuration section.
//
// # How a domain adds jobs
//
// Domain packages (liveness, intel, netscan, ...) never import this package (nor app).
// They import River directly, declare their job arguments (a struct with Kind() string;
// optionally InsertOpts() returning river.InsertOpts{MaxAttempts: n} to choose retries per
// kind) and a worker (embed river.WorkerDefaults[Args]; override Timeout when a job may run
// longer than half of worker.rescue_after). They enqueue through an interface they declare
// themselves, which *river.Client[pgx.Tx] satisfies:
//
//	type Enqueuer interface {
//		InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
//		Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
//	}
//
// Naming, the same in every package: a job's arguments are <Job>Args with the kind
// "<package>_<job>" (intel_collect, liveness_tick, netscan_scan, events_retention,
// worker_ping), its worker is the unexported <job>Worker holding the domain's service in
// a field named svc, and both live in <job>_worker.go beside the package's RegisterJobs.
//
// InsertTx goes inside the transaction that writes the row the job belongs to, so a job
// exists exactly when its row does (a rolled-back transaction leaves no job). Each domain
// exposes a registration method for app.New:
//
//	func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob
//
// app.New builds one Registry and the River client FIRST, before any domain service, so
// the client handed to services is never nil. Then, for each domain:
//
//	svc := netscan.NewService(d.Pool, aw, jobs.Client, hosts, netscan.Options{...})
//	jobs.AddPeriodic(svc.RegisterJobs(jobs.Workers)...)
//
// River looks workers up in the bundle when it runs or rescues a job, not when the client
// is made, so workers added after NewClient and before Start are used; periodic jobs and
// extra queues are handed to the client by Start. Register everything inside app.New:
// adding to the bundle after Start is a data race.
//
// # What the plumbing guarantees
//
//   - Correlation: an insert middleware stores the correlation id of the inserting context
//     (reqinfo) in the job's metadata under "correlation_id" (a fresh id when there is
//     none, for periodic jobs); a worker middleware puts it back into the job's context with
//     reqinfo.With, so log lines (the logging handler reads reqinfo) and audit rows written
//     by the job carry the id of the request that caused it.
//   - Retries: River's default policy (attempt^4 seconds, with jitter) up to the kind's
//     MaxAttempts (River's default is 25; domains should set a smaller number per kind).
//   - Crashes: a job still marked running after worker.rescue_after, because the process
//     working it died, is made retryable by River's rescuer and runs again elsewhere. The
//     rescuer runs on the leader every 30 s, so a rescue takes rescue_after plus up to
//     30 s (plus up to 15 s for a new leader to be elected when the dead process was the
//     leader). Each job's context is cancelled after half of rescue_after (River's
//     JobTimeout) unless its worker's Timeout says otherwise; the rescuer waits for the
//     longer of the two. Jobs must therefore be idempotent: a job may run again after a
//     crash even if its first run got far.
//   - Periodic jobs run on River's elected leader only (one leader per database, among all
//     serve --with-worker and worker processes), so each runs once per cluster per period,
//     not once per process.
//
// A process either works jobs (openwatch worker, serve with worker.with_worker) or only
// inserts them (serve --with-worker=false): both get a client built over the same bundle,
// so inserting a kind nobody registered fails at insert time in either mode.
package worker
