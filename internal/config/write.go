package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"
)

// redacted replaces a secret in printed configuration.
const redacted = "<redacted>"

// WriteTOML writes the configuration as TOML that Load reads back. Fields
// tagged secret:"true" print as "<redacted>" when set, except the database
// DSN, whose password alone is redacted (see RedactDSN) so that the server
// and database stay visible.
func (c Config) WriteTOML(w io.Writer) error {
	out := c
	for _, f := range fields() {
		if !f.secret {
			continue
		}
		v := f.value(&out)
		if v.String() == "" {
			continue
		}
		if f.name() == "database.dsn" {
			v.SetString(RedactDSN(v.String()))
			continue
		}
		v.SetString(redacted)
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("config: write toml: %w", err)
	}
	return nil
}

// RedactDSN returns a PostgreSQL connection string with its password
// replaced by "<redacted>", keeping user, host, port, database and options
// readable. It understands the URL form (postgres://user:pw@host/db, and a
// password=... query parameter) and the key=value form (host=h password=pw).
// A string it cannot parse as key=value and that mentions a password is
// redacted whole rather than risk leaking it.
func RedactDSN(dsn string) string {
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok && isScheme(scheme) {
		return scheme + "://" + redactURLRest(rest)
	}
	out, ok := redactKeyValue(dsn)
	if !ok {
		if strings.Contains(strings.ToLower(dsn), "password") {
			return redacted
		}
		return dsn
	}
	return out
}

// passwordKey reports whether a connection parameter carries a password.
func passwordKey(k string) bool {
	switch strings.ToLower(k) {
	case "password", "sslpassword":
		return true
	}
	return false
}

// redactURLRest redacts the part of a URL-form DSN after "scheme://". The
// user information normally ends at the last "@" before the query. A
// malformed URL whose password holds an unescaped "?" has no "@" there, so
// the last "@" anywhere is taken instead; that can only hide too much, never
// too little.
func redactURLRest(rest string) string {
	at := -1
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		at = strings.LastIndex(rest[:q], "@")
	}
	if at < 0 {
		at = strings.LastIndex(rest, "@")
	}
	userinfo, tail := "", rest
	if at >= 0 {
		userinfo, tail = rest[:at], rest[at:]
	}
	if user, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
		userinfo = user + ":" + redacted
	} else {
		userinfo = redactQuery(userinfo)
	}
	return userinfo + redactQuery(tail)
}

// redactQuery redacts password parameters in the query part of s, if any.
func redactQuery(s string) string {
	head, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, v, ok := strings.Cut(p, "="); ok && passwordKey(k) && v != "" {
			params[i] = k + "=" + redacted
		}
	}
	return head + "?" + strings.Join(params, "&")
}

// isScheme reports whether s is a URL scheme: a letter followed by letters,
// digits, "+", "-" or ".".
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// redactKeyValue redacts password values in a key=value DSN, where a value
// is either bare (up to the next space) or single-quoted with \' and \\
// escapes. It reports false when s is not well-formed key=value text.
func redactKeyValue(s string) (string, bool) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		// Copy the space between pairs.
		for i < len(s) && isSpace(s[i]) {
			b.WriteByte(s[i])
			i++
		}
		if i == len(s) {
			break
		}
		// Key, up to "=" (spaces around "=" are allowed).
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if key == "" || i == len(s) || s[i] != '=' {
			return "", false
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		// Value, quoted or bare.
		vstart := i
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					i += 2
					continue
				}
				if s[i] == '\'' {
					i++
					closed = true
					break
				}
				i++
			}
			if !closed {
				return "", false
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				i++
			}
		}
		b.WriteString(key)
		b.WriteByte('=')
		if passwordKey(key) && i > vstart {
			b.WriteString(redacted)
		} else {
			b.WriteString(s[vstart:i])
		}
	}
	return b.String(), true
}

// isSpace reports whether c separates key=value pairs.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
