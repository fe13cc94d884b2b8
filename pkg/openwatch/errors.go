package openwatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/openwatch/openwatch/gen/client"
)

// APIError is an answer of 400 or above, read from the error envelope.
type APIError struct {
	StatusCode    int
	Code          client.ErrorCode
	Message       string
	Detail        map[string]any
	CorrelationID string
	Retryable     bool
	// Body is the answer's body when it was not an envelope.
	Body []byte
}

func (e *APIError) Error() string {
	if e.Message == "" {
		s := strings.TrimSpace(string(e.Body))
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return fmt.Sprintf("HTTP %d: %s", e.StatusCode, s)
	}
	code := string(e.Code)
	if r, ok := e.Detail["reason"].(string); ok {
		code += ", " + r
	}
	return fmt.Sprintf("HTTP %d: %s (%s)", e.StatusCode, e.Message, code)
}

// Check returns nil for answers below 400 and an *APIError otherwise.
func Check(res *http.Response, body []byte) error {
	if res == nil {
		return errors.New("openwatch: no answer")
	}
	if res.StatusCode < 400 {
		return nil
	}
	e := &APIError{StatusCode: res.StatusCode}
	var env client.ErrorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message, e.CorrelationID, e.Retryable = env.Error.Code, env.Error.HumanMessage, env.Error.CorrelationId, env.Error.Retryable
		if env.Error.Detail != nil {
			e.Detail = *env.Error.Detail
		}
	} else {
		e.Body = body
	}
	return e
}

// IsCode reports whether err is an *APIError with the code.
func IsCode(err error, code client.ErrorCode) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// StatusOf returns the HTTP status of an *APIError in err, or 0.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// result checks a generated answer and returns its decoded value.
func result[T any](hr *http.Response, body []byte, v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	if err := Check(hr, body); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, &APIError{StatusCode: hr.StatusCode, Body: body}
	}
	return v, nil
}
