package httpsig

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Label names the signature OpenWatch reads from Signature-Input and Signature.
const Label = "ow"

// Alg is the only algorithm accepted.
const Alg = "hmac-sha256"

// Headers carrying a signature.
const (
	HeaderSignatureInput = "Signature-Input"
	HeaderSignature      = "Signature"
	HeaderContentDigest  = "Content-Digest"
)

// Errors the parsing and checking functions wrap; test for them with errors.Is.
var (
	// ErrMalformed: a header is not the structured field expected.
	ErrMalformed = errors.New("malformed signature header")
	// ErrMissingComponent: a covered component is absent from the request, or a required
	// one is not covered.
	ErrMissingComponent = errors.New("missing covered component")
	// ErrDigest: the body does not match its Content-Digest.
	ErrDigest = errors.New("body does not match its Content-Digest")
	// ErrBadSignature: the signature does not verify under the key.
	ErrBadSignature = errors.New("signature does not verify")
)

// Param is one signature parameter; Int is used when IsInt.
type Param struct {
	Name  string
	Str   string
	Int   int64
	IsInt bool
}

// Input is a parsed Signature-Input member: the covered components and the parameters in
// their order.
type Input struct {
	Components []string
	Params     []Param
}

// Get returns the string parameter name.
func (in Input) Get(name string) (string, bool) {
	for _, p := range in.Params {
		if p.Name == name && !p.IsInt {
			return p.Str, true
		}
	}
	return "", false
}

// GetInt returns the integer parameter name.
func (in Input) GetInt(name string) (int64, bool) {
	for _, p := range in.Params {
		if p.Name == name && p.IsInt {
			return p.Int, true
		}
	}
	return 0, false
}

// Covers reports whether the component is covered.
func (in Input) Covers(component string) bool {
	for _, c := range in.Components {
		if c == component {
			return true
		}
	}
	return false
}

// String serializes the inner list with its parameters, the value of
// "@signature-params" (RFC 9421 section 2.3).
func (in Input) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range in.Components {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(c))
	}
	b.WriteByte(')')
	for _, p := range in.Params {
		b.WriteByte(';')
		b.WriteString(p.Name)
		b.WriteByte('=')
		if p.IsInt {
			b.WriteString(strconv.FormatInt(p.Int, 10))
		} else {
			b.WriteString(strconv.Quote(p.Str))
		}
	}
	return b.String()
}

// members splits a structured-field dictionary into its members, keyed by name, leaving
// each value unparsed.
func members(header string) map[string]string {
	out := map[string]string{}
	depth, quoted, start := 0, false, 0
	add := func(part string) {
		part = strings.TrimSpace(part)
		if name, value, ok := strings.Cut(part, "="); ok {
			out[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	for i := 0; i < len(header); i++ {
		switch c := header[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			add(header[start:i])
			start = i + 1
		}
	}
	add(header[start:])
	return out
}

// ParseInput reads the member label of a Signature-Input header.
func ParseInput(header, label string) (Input, error) {
	v, ok := members(header)[label]
	if !ok {
		return Input{}, fmt.Errorf("%w: Signature-Input has no %q member", ErrMalformed, label)
	}
	if !strings.HasPrefix(v, "(") {
		return Input{}, fmt.Errorf("%w: Signature-Input %q is not an inner list", ErrMalformed, label)
	}
	var in Input
	i := 1
	for {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i >= len(v) {
			return Input{}, fmt.Errorf("%w: unterminated inner list", ErrMalformed)
		}
		if v[i] == ')' {
			i++
			break
		}
		s, n, err := quotedAt(v, i)
		if err != nil {
			return Input{}, err
		}
		in.Components = append(in.Components, s)
		i = n
	}
	for i < len(v) {
		if v[i] != ';' {
			return Input{}, fmt.Errorf("%w: expected ';' before a parameter", ErrMalformed)
		}
		i++
		j := i
		for j < len(v) && v[j] != '=' && v[j] != ';' {
			j++
		}
		name := strings.TrimSpace(v[i:j])
		if name == "" || j >= len(v) || v[j] != '=' {
			return Input{}, fmt.Errorf("%w: parameter %q has no value", ErrMalformed, name)
		}
		i = j + 1
		if i < len(v) && v[i] == '"' {
			s, n, err := quotedAt(v, i)
			if err != nil {
				return Input{}, err
			}
			in.Params = append(in.Params, Param{Name: name, Str: s})
			i = n
			continue
		}
		j = i
		for j < len(v) && v[j] != ';' {
			j++
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v[i:j]), 10, 64)
		if err != nil {
			return Input{}, fmt.Errorf("%w: parameter %q is neither a string nor an integer", ErrMalformed, name)
		}
		in.Params = append(in.Params, Param{Name: name, Int: n, IsInt: true})
		i = j
	}
	return in, nil
}

// quotedAt reads the sf-string starting at v[i] and returns it and the index after it.
func quotedAt(v string, i int) (string, int, error) {
	if v[i] != '"' {
		return "", 0, fmt.Errorf("%w: expected a quoted string", ErrMalformed)
	}
	var b strings.Builder
	for j := i + 1; j < len(v); j++ {
		switch c := v[j]; c {
		case '\\':
			if j+1 >= len(v) {
				return "", 0, fmt.Errorf("%w: dangling escape", ErrMalformed)
			}
			j++
			b.WriteByte(v[j])
		case '"':
			return b.String(), j + 1, nil
		default:
			if c < 0x20 || c > 0x7e {
				return "", 0, fmt.Errorf("%w: a string holds a non-printable character", ErrMalformed)
			}
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("%w: unterminated string", ErrMalformed)
}

// byteSequence reads an sf-binary `:base64:`.
func byteSequence(v string) ([]byte, bool) {
	if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
	return b, err == nil
}

// ParseSignature reads the member label of a Signature header.
func ParseSignature(header, label string) ([]byte, error) {
	v, ok := members(header)[label]
	if !ok {
		return nil, fmt.Errorf("%w: Signature has no %q member", ErrMalformed, label)
	}
	b, ok := byteSequence(v)
	if !ok {
		return nil, fmt.Errorf("%w: Signature %q is not a base64 byte sequence", ErrMalformed, label)
	}
	return b, nil
}

// Digest returns the Content-Digest value of body: `sha-256=:<base64>:`.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// CheckDigest checks body against a Content-Digest header, which must carry sha-256.
func CheckDigest(header string, body []byte) error {
	v, ok := members(header)["sha-256"]
	if !ok {
		return fmt.Errorf("%w: Content-Digest has no sha-256 member", ErrDigest)
	}
	want, ok := byteSequence(v)
	sum := sha256.Sum256(body)
	if !ok || !hmac.Equal(want, sum[:]) {
		return ErrDigest
	}
	return nil
}

// Base builds the signature base of req for in (RFC 9421 section 2.5). targetURI is the
// request's absolute URI as the signer saw it.
func Base(req *http.Request, targetURI string, in Input) ([]byte, error) {
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, c := range in.Components {
		if seen[c] {
			return nil, fmt.Errorf("%w: %q is covered twice", ErrMalformed, c)
		}
		seen[c] = true
		v, err := component(req, targetURI, c)
		if err != nil {
			return nil, err
		}
		b.WriteString(strconv.Quote(c))
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(in.String())
	return b.Bytes(), nil
}

func component(req *http.Request, targetURI, c string) (string, error) {
	switch c {
	case "@method":
		return req.Method, nil
	case "@target-uri":
		return targetURI, nil
	case "@authority":
		return strings.ToLower(req.Host), nil
	case "@scheme":
		if i := strings.Index(targetURI, "://"); i > 0 {
			return strings.ToLower(targetURI[:i]), nil
		}
		return "", fmt.Errorf("%w: @scheme", ErrMissingComponent)
	case "@path":
		if p := req.URL.EscapedPath(); p != "" {
			return p, nil
		}
		return "/", nil
	case "@query":
		return "?" + req.URL.RawQuery, nil
	case "@request-target":
		return req.URL.RequestURI(), nil
	}
	if strings.HasPrefix(c, "@") || c != strings.ToLower(c) || c == "" {
		return "", fmt.Errorf("%w: component %q is not supported", ErrMalformed, c)
	}
	vals := req.Header.Values(c)
	if len(vals) == 0 {
		return "", fmt.Errorf("%w: header %q is covered but absent", ErrMissingComponent, c)
	}
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	return strings.Join(vals, ", "), nil
}

// Sum returns the hmac-sha256 of base under key.
func Sum(key, base []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(base)
	return m.Sum(nil)
}

// Verify checks sig against base under key in constant time.
func Verify(key, base, sig []byte) error {
	if !hmac.Equal(Sum(key, base), sig) {
		return ErrBadSignature
	}
	return nil
}
