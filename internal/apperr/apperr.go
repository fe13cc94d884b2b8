package apperr

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Error is an error a client may see. Message is a full sentence for people; Detail holds
// machine-readable context (for example the offending field or the missing permission).
// Err, when set, is the internal cause: it is logged, never returned to clients.
type Error struct {
	Code    Code
	Message string
	Detail  map[string]any
	Err     error
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = Registry[e.Code].Message
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Spec returns the presentation of the error's code.
func (e *Error) Spec() Spec { return Registry[e.Code] }

// HumanMessage is the message shown to clients.
func (e *Error) HumanMessage() string {
	if e.Message != "" {
		return e.Message
	}
	return Registry[e.Code].Message
}

// New returns an error with the given code and message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Newf returns an error with the given code and a formatted message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns a copy of e with key set in its detail map. e itself is left alone, so
// adding detail to an error that someone else also holds cannot change theirs.
func (e *Error) WithDetail(key string, value any) *Error {
	c := *e
	c.Detail = make(map[string]any, len(e.Detail)+1)
	maps.Copy(c.Detail, e.Detail)
	c.Detail[key] = value
	return &c
}

// RateLimited reports that the caller must wait before retrying.
func RateLimited(message string, retryAfter time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: message, RetryAfter: retryAfter,
		Detail: map[string]any{"retry_after_seconds": retrySeconds(retryAfter)}}
}

func retrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// RetryAfterSeconds returns the whole seconds for a Retry-After header (at least 1).
func (e *Error) RetryAfterSeconds() int64 { return retrySeconds(e.RetryAfter) }

// Invalid reports a validation failure of one field.
func Invalid(field, message string) *Error {
	return New(CodeValidationFailed, message).WithDetail("field", field)
}

// NotFound reports that a resource does not exist, or that the caller may not know it does.
func NotFound(message string) *Error { return New(CodeNotFound, message) }

// Conflict reports that a resource already exists.
func Conflict(message string) *Error { return New(CodeConflict, message) }

// Unavailable reports that a dependency the request needs is down; cause is logged only.
func Unavailable(cause error) *Error {
	return &Error{Code: CodeUnavailable, Err: cause}
}

// Internal wraps an unexpected error; cause is logged only.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Err: cause}
}

// As returns the *Error in err's chain, or an internal error wrapping err when there is none.
func As(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return Internal(err)
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == code
}
