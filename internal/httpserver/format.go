package httpserver

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
)

// responseFormats is the document extension that declares ?format=yaml (see the API
// description): its "parameter" names the query parameter.
const responseFormats = "x-response-formats"

// responseFormatParameter returns the query parameter the document's x-response-formats
// extension names, or "" when the document declares none (and then nothing is converted).
func responseFormatParameter(doc *openapi3.T) string {
	ext, ok := doc.Extensions[responseFormats].(map[string]any)
	if !ok {
		return ""
	}
	name, _ := ext["parameter"].(string)
	return name
}

// formats returns the middleware that answers ?format=yaml for a GET operation that does
// not declare the parameter itself (GET /reports/{id}/export gives format its own
// meaning), or nil for every other operation.
func (s *Server) formats(op *authz.Operation) echo.MiddlewareFunc {
	if s.yamlFormat == "" || op.Method != http.MethodGet || declaresQuery(op, s.yamlFormat) {
		return nil
	}
	name := s.yamlFormat
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !strings.Contains(c.Request().URL.RawQuery, name+"=") {
				return next(c)
			}
			switch v := c.QueryParam(name); v {
			case "", "json":
				return next(c)
			case "yaml":
				return s.asYAML(c, next)
			default:
				return apperr.Invalid(name, fmt.Sprintf("The query parameter %s must be json or yaml, not %q.", name, v))
			}
		}
	}
}

// declaresQuery reports whether the operation (or its path) declares the query parameter.
func declaresQuery(op *authz.Operation, name string) bool {
	var params openapi3.Parameters
	if op.PathItem != nil {
		params = append(params, op.PathItem.Parameters...)
	}
	if op.Spec != nil {
		params = append(params, op.Spec.Parameters...)
	}
	for _, p := range params {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == name {
			return true
		}
	}
	return false
}

// asYAML runs next with a response writer that holds a JSON answer back, renders an
// error itself so it is converted too, and writes the JSON answer as YAML. Answers of
// any other type (event streams, files) pass through untouched.
func (s *Server) asYAML(c echo.Context, next echo.HandlerFunc) error {
	res := c.Response()
	w := &yamlWriter{ResponseWriter: res.Writer}
	res.Writer = w
	err := next(c)
	if err != nil {
		c.Error(err) // renders the envelope through w
	}
	res.Writer = w.ResponseWriter
	if !w.holding {
		return nil
	}
	out, convErr := jsonToYAML(w.body.Bytes())
	h := w.ResponseWriter.Header()
	if convErr != nil {
		// Never expected (the server writes valid JSON): keep the JSON answer rather than fail.
		s.logger.ErrorContext(c.Request().Context(), "convert answer to yaml", "error", convErr)
		out = w.body.Bytes()
	} else {
		h.Set(echo.HeaderContentType, "application/yaml")
	}
	// The JSON answer's length no longer holds; the writer below (the compressor, say)
	// frames the YAML one.
	h.Del(echo.HeaderContentLength)
	w.ResponseWriter.WriteHeader(w.status)
	_, werr := w.ResponseWriter.Write(out)
	return werr
}

// yamlWriter holds back a response whose Content-Type is application/json; any other
// response goes straight through.
type yamlWriter struct {
	http.ResponseWriter
	decided bool
	holding bool
	status  int
	body    bytes.Buffer
}

func (w *yamlWriter) WriteHeader(status int) {
	if w.decided {
		return
	}
	w.decided = true
	ct := w.Header().Get(echo.HeaderContentType)
	if strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		w.holding, w.status = true, status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *yamlWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.holding {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush passes through for streams; a held answer is written at the end.
func (w *yamlWriter) Flush() {
	if w.holding {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack keeps the underlying writer's ability to take over the connection.
func (w *yamlWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *yamlWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jsonToYAML converts a JSON document to block-style YAML, keeping the order of object
// keys. JSON is YAML, so the YAML decoder reads it; the styles it recorded (flow
// collections, double-quoted strings) are cleared so the encoder writes plain YAML and
// quotes only the strings that would otherwise read as another type.
func jsonToYAML(data []byte) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return data, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read json: %w", err)
	}
	clearStyle(&doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write yaml: %w", err)
	}
	return out.Bytes(), nil
}

func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}
