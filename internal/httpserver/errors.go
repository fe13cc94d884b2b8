package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// envelope is the wire form of every error.
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code          apperr.Code    `json:"code"`
	Fault         apperr.Fault   `json:"fault"`
	Retryable     bool           `json:"retryable"`
	HumanMessage  string         `json:"human_message"`
	CorrelationID string         `json:"correlation_id"`
	Detail        map[string]any `json:"detail,omitempty"`
}

// toAppErr maps anything a handler or middleware returned to an *apperr.Error.
func toAppErr(err error) *apperr.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// A step ran out of time (an overloaded database or host): retryable, never internal.
		return apperr.Unavailable(err)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.New(apperr.CodeBodyTooLarge, "The request body is larger than the limit.").WithDetail("limit_bytes", mbe.Limit)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			return apperr.New(apperr.CodeRouteNotFound, "")
		case http.StatusMethodNotAllowed:
			return apperr.New(apperr.CodeMethodNotAllowed, "")
		case http.StatusRequestEntityTooLarge:
			return apperr.New(apperr.CodeBodyTooLarge, "")
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
			return &apperr.Error{Code: apperr.CodeValidationFailed, Message: sentence(msg), Err: err}
		case http.StatusUnauthorized:
			return apperr.New(apperr.CodeAuthRequired, "")
		}
	}
	return apperr.Internal(err)
}

// sentence turns a library message into something presentable.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// errorHandler is Echo's HTTPErrorHandler: the only place that writes the envelope.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := toAppErr(err)
	spec, ok := apperr.Registry[ae.Code]
	if !ok {
		ae = apperr.Internal(err)
		spec = apperr.Registry[apperr.CodeInternal]
	}
	req := c.Request()
	ctx := req.Context()
	if spec.Status >= 500 {
		s.logger.ErrorContext(ctx, "request failed", slog.String("code", string(ae.Code)), slog.Any("error", err))
	} else if ae.Err != nil {
		s.logger.DebugContext(ctx, "request rejected", slog.String("code", string(ae.Code)), slog.Any("error", ae.Err))
	}
	body := envelope{Error: envelopeError{
		Code: ae.Code, Fault: spec.Fault, Retryable: spec.Retryable, HumanMessage: ae.HumanMessage(),
		CorrelationID: reqinfo.CorrelationID(ctx), Detail: ae.Detail,
	}}
	if ae.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.FormatInt(ae.RetryAfterSeconds(), 10))
	}
	writeEnvelope(c, spec.Status, body)
}

func writeEnvelope(c echo.Context, status int, body envelope) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("Cache-Control", "no-store")
	data, err := json.Marshal(body)
	if err != nil {
		data = []byte(`{"error":{"code":"internal.error","fault":"server","retryable":true,"human_message":"An internal error occurred.","correlation_id":""}}`)
	}
	c.Response().WriteHeader(status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(data)
	}
}
