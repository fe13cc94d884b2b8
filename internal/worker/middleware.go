package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// MetadataCorrelationID is the key of the job metadata that holds the correlation id of
// the request that inserted the job.
const MetadataCorrelationID = "correlation_id"

// correlationMiddleware carries the correlation id from the inserting context into the
// job's metadata, and from the metadata into the context the job runs with.
type correlationMiddleware struct {
	river.MiddlewareDefaults
	now func() time.Time
}

var (
	_ rivertype.JobInsertMiddleware = (*correlationMiddleware)(nil)
	_ rivertype.WorkerMiddleware    = (*correlationMiddleware)(nil)
)

// InsertMany stamps every job without a correlation id with the one in ctx, or with a new
// one when ctx has none (periodic jobs, jobs inserted by other jobs' start-up code).
func (m *correlationMiddleware) InsertMany(ctx context.Context, many []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	id := reqinfo.CorrelationID(ctx)
	if id == "" {
		id = reqinfo.NewCorrelationID(m.now())
	}
	for _, p := range many {
		md, err := withCorrelationID(p.Metadata, id)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", p.Kind, err)
		}
		p.Metadata = md
	}
	return doInner(ctx)
}

// Work runs the job with the correlation id of its metadata in its context (keeping any
// request info already there otherwise), so the logging handler and audit.For see it.
func (m *correlationMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	id := CorrelationIDOf(job)
	if id == "" {
		id = reqinfo.NewCorrelationID(m.now())
	}
	info := *reqinfo.From(ctx)
	info.CorrelationID = id
	return doInner(reqinfo.With(ctx, &info))
}

// withCorrelationID returns metadata (a JSON object) with the correlation id set, unless
// it already has one (an explicit InsertOpts.Metadata wins).
func withCorrelationID(metadata []byte, id string) ([]byte, error) {
	md := map[string]json.RawMessage{}
	if len(metadata) > 0 {
		if err := json.Unmarshal(metadata, &md); err != nil {
			return nil, fmt.Errorf("metadata is not a JSON object: %w", err)
		}
	}
	if _, ok := md[MetadataCorrelationID]; ok {
		return metadata, nil
	}
	v, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	md[MetadataCorrelationID] = v
	return json.Marshal(md)
}

// CorrelationIDOf returns the correlation id stored in a job's metadata, or "".
func CorrelationIDOf(job *rivertype.JobRow) string {
	var md struct {
		CorrelationID string `json:"correlation_id"`
	}
	if len(job.Metadata) == 0 || json.Unmarshal(job.Metadata, &md) != nil {
		return ""
	}
	return md.CorrelationID
}

// errorHandler logs failed and panicking jobs with their correlation id; River then
// retries them by its retry policy.
type errorHandler struct {
	log *slog.Logger
}

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.WarnContext(h.ctx(ctx, job), "job failed", jobAttrs(job, slog.Any("error", err))...)
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(h.ctx(ctx, job), "job panicked", jobAttrs(job, slog.Any("panic", panicVal), slog.String("trace", trace))...)
	return nil
}

// ctx returns ctx carrying the job's correlation id (error handlers run outside the
// worker middleware).
func (h *errorHandler) ctx(ctx context.Context, job *rivertype.JobRow) context.Context {
	if id := CorrelationIDOf(job); id != "" {
		return reqinfo.With(ctx, &reqinfo.Info{CorrelationID: id})
	}
	return ctx
}

func jobAttrs(job *rivertype.JobRow, extra ...any) []any {
	return append([]any{
		slog.Int64("job_id", job.ID), slog.String("job_kind", job.Kind),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts),
	}, extra...)
}

// timingMiddleware tells an observer how long each job ran and how it ended.
type timingMiddleware struct {
	river.MiddlewareDefaults
	observe func(kind string, d time.Duration, err error)
}

var _ rivertype.WorkerMiddleware = (*timingMiddleware)(nil)

// Work times the job.
func (m *timingMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	m.observe(job.Kind, time.Since(start), err)
	return err
}
