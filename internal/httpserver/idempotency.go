package httpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/idempotency"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// IdempotencyStore keeps Idempotency-Key reservations and responses.
type IdempotencyStore interface {
	Reserve(ctx context.Context, principal, key string, requestHash []byte, correlationID string) (idempotency.Outcome, *idempotency.Stored, error)
	Complete(ctx context.Context, principal, key string, resp idempotency.Stored) error
	Release(ctx context.Context, principal, key string) error
	// Within runs fn in one transaction with the reservation and, when fn keeps it, the
	// stored response (idempotency.Store.Within).
	Within(ctx context.Context, principal, key string, requestHash []byte, correlationID string,
		fn func(ctx context.Context) (idempotency.Stored, bool)) (idempotency.Outcome, *idempotency.Stored, error)
}

func errKeyInProgress() error {
	return &apperr.Error{Code: apperr.CodeIdempotencyInProgress,
		Message: "A request with this Idempotency-Key is still being processed; retry shortly.", RetryAfter: time.Second}
}

func errKeyReused() error {
	return apperr.New(apperr.CodeIdempotencyKeyReused,
		"This Idempotency-Key was already used for a different request; use a new key.")
}

// validatedBody keeps the validator's decoded value available to the strict handler after
// the body was read again for hashing.
type validatedBody struct {
	io.Reader
	value any
}

func (b validatedBody) Close() error        { return nil }
func (b validatedBody) ValidatedValue() any { return b.value }

// idempotent implements Idempotency-Key for the operations that honour it. The request
// validator has already enforced the header where the spec requires it. An operation in
// Options.OneCommit runs with its bookkeeping in one transaction (runInOneCommit); the
// others reserve, run and store in turn.
func (s *Server) idempotent(op *authz.Operation) echo.MiddlewareFunc {
	oneCommit := s.oneCommit[op.ID]
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return s.idempotently(c, next, oneCommit) }
	}
}

func (s *Server) idempotently(c echo.Context, next echo.HandlerFunc, oneCommit bool) error {
	req := c.Request()
	key := req.Header.Get(authz.IdempotencyHeader)
	if key == "" {
		return next(c)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	if vb, ok := req.Body.(interface{ ValidatedValue() any }); ok {
		req.Body = validatedBody{Reader: bytes.NewReader(body), value: vb.ValidatedValue()}
	} else {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	principal := "anonymous"
	if p := authz.PrincipalFrom(req.Context()); p != nil {
		principal = p.Key()
	}
	hash := requestHash(req, body)
	if oneCommit {
		return s.runInOneCommit(c, next, principal, key, hash)
	}
	ctx := req.Context()
	outcome, stored, err := s.idem.Reserve(ctx, principal, key, hash, reqinfo.CorrelationID(ctx))
	if err != nil {
		return err
	}
	if outcome != idempotency.Reserved {
		return replied(c, outcome, stored)
	}
	return s.runReserved(c, next, principal, key)
}

// replied answers a key that was not reserved: a replay of the stored response, or why not.
func replied(c echo.Context, outcome idempotency.Outcome, stored *idempotency.Stored) error {
	switch outcome {
	case idempotency.InProgress:
		return errKeyInProgress()
	case idempotency.Mismatch:
		return errKeyReused()
	}
	h := c.Response().Header()
	h.Set("Idempotent-Replayed", "true")
	if stored.ContentType != "" {
		h.Set(echo.HeaderContentType, stored.ContentType)
	}
	return c.Blob(stored.Status, stored.ContentType, stored.Body)
}

// runInOneCommit runs the handler inside the transaction that reserves the key and stores
// the response, so a successful request commits once: its changes, their audit events and
// the bookkeeping. The reservation travels with the handler's first statement, so the
// handler runs before it is known to hold the key: an operation in Options.OneCommit must
// change nothing outside the database. The response is held back until that commit
// succeeds; when it fails, or the key was not free, the client gets the error or the
// stored response instead and nothing was kept. A response of 400 or more rolls the
// handler's changes back; a 4xx is then stored on its own, for replay, and a 5xx frees the
// key for a retry.
func (s *Server) runInOneCommit(c echo.Context, next echo.HandlerFunc, principal, key string, hash []byte) error {
	req := c.Request()
	ctx := req.Context()
	res := c.Response()
	held := &heldWriter{ResponseWriter: res.Writer, header: res.Header().Clone()}
	var status int
	outcome, stored, err := s.idem.Within(ctx, principal, key, hash, reqinfo.CorrelationID(ctx),
		func(txCtx context.Context) (idempotency.Stored, bool) {
			res.Writer = held
			c.SetRequest(req.WithContext(txCtx))
			defer func() { res.Writer = held.ResponseWriter; c.SetRequest(req) }()
			if err := next(c); err != nil {
				c.Error(err)
			}
			status = res.Status
			return idempotency.Stored{Status: status, ContentType: res.Header().Get(echo.HeaderContentType), Body: held.body.Bytes()}, status < 400
		})
	switch {
	case err != nil:
		// Nothing was kept: answer the failure, not the response held back.
		held.restore(res)
		return err
	case outcome != idempotency.Reserved:
		// The key was not free: what the handler answered is forgotten with its changes.
		held.restore(res)
		return replied(c, outcome, stored)
	}
	if status >= 400 && status < 500 {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.keep(bctx, principal, key, hash, idempotency.Stored{Status: status, ContentType: res.Header().Get(echo.HeaderContentType), Body: held.body.Bytes()}); err != nil {
			s.logger.ErrorContext(bctx, "idempotency bookkeeping failed", slog.String("key", key), slog.Any("error", err))
		}
	}
	held.send()
	return nil
}

// keep stores a refusal's response under a free key, for replay.
func (s *Server) keep(ctx context.Context, principal, key string, hash []byte, resp idempotency.Stored) error {
	outcome, _, err := s.idem.Reserve(ctx, principal, key, hash, reqinfo.CorrelationID(ctx))
	if err != nil || outcome != idempotency.Reserved {
		return err
	}
	return s.idem.Complete(ctx, principal, key, resp)
}

// heldWriter holds a response back (status and body; headers go to the real writer's map)
// until send.
type heldWriter struct {
	http.ResponseWriter
	header http.Header // the headers before the handler ran
	status int
	body   bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int)        { w.status = code }
func (w *heldWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

// send writes the held response.
func (w *heldWriter) send() {
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

// restore forgets the held response, its headers included, so an error can be written.
func (w *heldWriter) restore(res *echo.Response) {
	h := res.Header()
	for k := range h {
		delete(h, k)
	}
	for k, v := range w.header {
		h[k] = v
	}
	res.Committed = false
	res.Status = http.StatusOK
	res.Size = 0
}

// runReserved runs the handler while capturing its response, then stores the response for
// replay, or releases the key when the server failed so the client can retry.
func (s *Server) runReserved(c echo.Context, next echo.HandlerFunc, principal, key string) error {
	res := c.Response()
	capture := &captureWriter{ResponseWriter: res.Writer}
	res.Writer = capture
	defer func() { res.Writer = capture.ResponseWriter }()
	if err := next(c); err != nil {
		c.Error(err)
	}
	// The bookkeeping must finish even when the client has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	var err error
	if res.Status >= 500 {
		err = s.idem.Release(ctx, principal, key)
	} else {
		err = s.idem.Complete(ctx, principal, key, idempotency.Stored{
			Status: res.Status, ContentType: res.Header().Get(echo.HeaderContentType), Body: capture.body.Bytes(),
		})
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "idempotency bookkeeping failed", slog.String("key", key), slog.Any("error", err))
	}
	return nil
}

// captureWriter copies what the handler writes.
type captureWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *captureWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// requestHash identifies a request by method, path, query and body.
func requestHash(req *http.Request, body []byte) []byte {
	h := sha256.New()
	io.WriteString(h, req.Method)
	h.Write([]byte{0})
	io.WriteString(h, req.URL.Path)
	h.Write([]byte{0})
	io.WriteString(h, req.URL.RawQuery)
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}
