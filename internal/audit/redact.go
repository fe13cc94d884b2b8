package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces the value of every secret-like key in an event's detail.
const Redacted = "[REDACTED]"

// secretRoots make a key secret-like when one of them occurs anywhere in the key's words
// joined together and lower-cased, so new_password, newPassword, APIKey, x-api-key,
// clientSecret, id_token and recoveryCodes all match.
var secretRoots = []string{
	"password", "passwd", "passphrase", "passcode", "secret", "token", "apikey", "privatekey",
	"recoverycode", "authorization", "cookie", "credential", "sessionkey", "signingkey",
	"accesskey", "databaseurl", "connectionstring",
}

// secretWords are too short to match inside other words (otp in "footprint"), so they make a
// key secret-like only as a whole word.
var secretWords = map[string]bool{"otp": true, "totp": true, "hotp": true, "pwd": true, "pin": true, "dsn": true}

// metadataWords, as the last word of a key, say the value describes a secret without being
// one: token_id, token_name, password_changed_at, secret_set, credential_type. They do not
// save a key whose last word is itself secret (id_token).
var metadataWords = map[string]bool{
	"id": true, "ids": true, "name": true, "names": true, "type": true, "kind": true,
	"prefix": true, "hint": true, "count": true, "at": true, "expires": true, "expiry": true,
	"ttl": true, "length": true, "policy": true, "enabled": true, "required": true,
	"changed": true, "set": true, "present": true, "version": true, "scope": true,
	"scopes": true, "fingerprint": true,
}

// secretLike reports whether the value under key must be redacted.
func secretLike(key string) bool {
	ws := keyWords(key)
	if len(ws) == 0 {
		return false
	}
	if len(ws) > 1 && metadataWords[ws[len(ws)-1]] {
		return false
	}
	for _, w := range ws {
		if secretWords[w] {
			return true
		}
	}
	joined := strings.Join(ws, "")
	for _, root := range secretRoots {
		if strings.Contains(joined, root) {
			return true
		}
	}
	return false
}

// keyWords splits a key into lower-case words at non-alphanumerics and camelCase
// boundaries: "newPassword" → [new password], "APIKey" → [api key], "token_id" → [token id].
func keyWords(key string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	runes := []rune(key)
	for i, r := range runes {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				flush()
			}
		}
		cur.WriteRune(unicode.ToLower(r))
	}
	flush()
	return words
}

// redact returns v (a value decoded from JSON with UseNumber) with the value of every
// secret-like key replaced by Redacted, appending the JSON path of each replaced value to
// paths. Strings and keys lose NUL characters (PostgreSQL's jsonb cannot hold them), which
// become U+FFFD. Keys are visited in sorted order, so paths come out in a stable order.
func redact(v any, path string, paths *[]string) any {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(map[string]any, len(v))
		for _, k := range keys {
			clean := cleanString(k)
			p := path + pathKey(clean)
			if secretLike(clean) {
				out[clean] = Redacted
				*paths = append(*paths, p)
				continue
			}
			out[clean] = redact(v[k], p, paths)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redact(e, path+"["+strconv.Itoa(i)+"]", paths)
		}
		return out
	case string:
		return cleanString(v)
	}
	return v
}

// pathKey renders one step of a JSON path: ".name" for identifier-like keys, otherwise
// ["key"] with the key JSON-quoted.
func pathKey(k string) string {
	ident := k != ""
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ident = false
			break
		}
	}
	if ident {
		return "." + k
	}
	q, _ := json.Marshal(k)
	return "[" + string(q) + "]"
}

// cleanString returns s as valid UTF-8 without NUL characters.
func cleanString(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}
