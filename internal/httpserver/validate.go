package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	echomw "github.com/oapi-codegen/echo-middleware"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
)

// routeRouter is a kin-openapi router that always answers one known route: Echo has
// already routed the request, so there is no second route search per request.
type routeRouter struct {
	route  *routers.Route
	params map[string]string
}

func (r routeRouter) FindRoute(*http.Request) (*routers.Route, map[string]string, error) {
	return r.route, r.params, nil
}

// validate checks the request against the operation in the embedded spec, through
// oapi-codegen's Echo validator, and turns failures into 400 validation_failed envelopes
// that name the offending field.
func (s *Server) validate(op *authz.Operation) echo.MiddlewareFunc {
	route := &routers.Route{Spec: s.doc, Path: op.Path, PathItem: op.PathItem, Method: op.Method, Operation: op.Spec}
	opts := &echomw.Options{
		Options: openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			KeepValidatedValue: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidators(stringFormats),
			},
		},
		SilenceServersWarning: true,
	}
	// A file upload (a binary body only) is streamed to its handler, never read here.
	opts.Options.ExcludeRequestBody = binaryBody(op.Spec)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var params map[string]string
			if names := c.ParamNames(); len(names) > 0 {
				params = make(map[string]string, len(names))
				for i, n := range names {
					params[n] = c.ParamValues()[i]
				}
			}
			if herr := echomw.ValidateRequestFromContext(c, routeRouter{route, params}, opts); herr != nil {
				return validationError(herr)
			}
			return next(c)
		}
	}
}

// checkQuery answers 400 validation_failed, naming the parameter, when the query string
// is not valid percent-encoding or separates pairs with `;`. Go's URL parsing drops such
// pairs without a word, so `?cursor=%%%` would otherwise read as no cursor at all. It runs
// for every operation, whether or not it declares parameters, after authorization like the
// rest of request validation.
func checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := queryError(c.Request().URL.RawQuery); err != nil {
			return err
		}
		return next(c)
	}
}

// queryError returns the validation error for the first malformed pair of a raw query
// string, or nil when every pair decodes. It reads pairs the way url.ParseQuery does.
func queryError(raw string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		name, keyErr := url.QueryUnescape(key)
		if keyErr != nil || strings.Contains(key, ";") {
			name = key
		}
		if strings.Contains(pair, ";") {
			return apperr.Invalid(name, fmt.Sprintf("The query parameter %s contains a semicolon; send it as %%3B.", name))
		}
		if _, valueErr := url.QueryUnescape(value); keyErr != nil || valueErr != nil {
			return apperr.Invalid(name, fmt.Sprintf("The query parameter %s is not valid percent-encoding.", name))
		}
	}
	return nil
}

// validationError converts the validator's error into an envelope error.
func validationError(herr *echo.HTTPError) error {
	cause := herr.Internal
	if cause == nil {
		cause = herr
	}
	var mbe *http.MaxBytesError
	if errors.As(cause, &mbe) {
		return cause
	}
	var re *openapi3filter.RequestError
	if !errors.As(cause, &re) {
		if herr.Code == http.StatusNotFound || herr.Code >= 500 {
			return herr
		}
		return &apperr.Error{Code: apperr.CodeValidationFailed, Message: sentence(fmt.Sprint(herr.Message)), Err: cause}
	}
	field, msg := describe(re)
	e := &apperr.Error{Code: apperr.CodeValidationFailed, Message: msg, Err: cause}
	if field != "" {
		e = e.WithDetail("field", field)
	}
	return e
}

// stringFormats validates the string formats the generated models also enforce, so that
// a value the validator accepts always binds, and a bad one is reported with its field.
var stringFormats = map[string]openapi3.StringFormatValidator{
	"email": openapi3.NewCallbackValidator(func(s string) error {
		var e openapi_types.Email
		raw, _ := json.Marshal(s)
		return e.UnmarshalJSON(raw)
	}),
	"uuid": openapi3.NewCallbackValidator(func(s string) error {
		_, err := uuid.Parse(s)
		return err
	}),
	"date-time": openapi3.NewCallbackValidator(func(s string) error {
		_, err := time.Parse(time.RFC3339Nano, s)
		return err
	}),
}

var quotedName = regexp.MustCompile(`"([^"]+)"`)

// describe returns the field a request error is about and a sentence naming it.
func describe(re *openapi3filter.RequestError) (string, string) {
	if p := re.Parameter; p != nil {
		if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
			return p.Name, fmt.Sprintf("%s is required", p.Name)
		}
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			return p.Name, fmt.Sprintf("%s is invalid: %s", p.Name, se.Reason)
		}
		return p.Name, fmt.Sprintf("%s is invalid", p.Name)
	}
	if re.RequestBody == nil {
		return "", sentence(re.Error())
	}
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return "body", "A request body is required"
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) || errors.Is(re.Err, io.ErrUnexpectedEOF) {
		return "body", "The request body is not valid JSON"
	}
	var se *openapi3.SchemaError
	if !errors.As(re.Err, &se) {
		if strings.Contains(re.Error(), "Content-Type") || strings.Contains(re.Error(), "content type") {
			return "body", "The request body must be JSON (Content-Type: application/json)"
		}
		return "body", sentence(re.Error())
	}
	path := se.JSONPointer()
	field := strings.Join(path, ".")
	switch se.SchemaField {
	case "required":
		return field, fmt.Sprintf("%s is required", field)
	case "properties", "additionalProperties":
		if m := quotedName.FindStringSubmatch(se.Reason); m != nil {
			name := strings.Join(append(path, m[1]), ".")
			return name, fmt.Sprintf("%s is not a known field", name)
		}
	case "enum":
		if se.Schema != nil && len(se.Schema.Enum) > 0 {
			vals := make([]string, len(se.Schema.Enum))
			for i, v := range se.Schema.Enum {
				vals[i] = fmt.Sprint(v)
			}
			return field, fmt.Sprintf("%s must be one of: %s", orBody(field), strings.Join(vals, ", "))
		}
	case "type":
		if se.Schema != nil && se.Schema.Type != nil {
			return field, fmt.Sprintf("%s must be of type %s", orBody(field), strings.Join(se.Schema.Type.Slice(), " or "))
		}
	}
	return field, fmt.Sprintf("%s is invalid: %s", orBody(field), se.Reason)
}

func orBody(field string) string {
	if field == "" {
		return "the request body"
	}
	return field
}

// binaryBody reports whether every content type of the operation's request body is a
// binary string (an upload).
func binaryBody(op *openapi3.Operation) bool {
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil || len(op.RequestBody.Value.Content) == 0 {
		return false
	}
	for _, mt := range op.RequestBody.Value.Content {
		if mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Format != "binary" {
			return false
		}
	}
	return true
}
