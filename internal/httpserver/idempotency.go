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
// validator has already enforced the header where the spec requires it.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
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
		ctx := req.Context()
		outcome, stored, err := s.idem.Reserve(ctx, principal, key, requestHash(req, body), reqinfo.CorrelationID(ctx))
		if err != nil {
			return err
		}
		switch outcome {
		case idempotency.InProgress:
			return errKeyInProgress()
		case idempotency.Mismatch:
			return errKeyReused()
		case idempotency.Replay:
			h := c.Response().Header()
			h.Set("Idempotent-Replayed", "true")
			if stored.ContentType != "" {
				h.Set(echo.HeaderContentType, stored.ContentType)
			}
			return c.Blob(stored.Status, stored.ContentType, stored.Body)
		}
		return s.runReserved(c, next, principal, key)
	}
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
