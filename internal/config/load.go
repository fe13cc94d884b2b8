package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Sources holds everything Load reads. The caller fills it from the process
// (flags, os.Getenv, os.Environ); tests fill it by hand.
type Sources struct {
	// ConfigPath is the TOML file from --config; "" means DefaultConfigPath.
	ConfigPath string
	// ConfigExplicit is true when --config was given, which makes a missing
	// file an error. A missing default file leaves the defaults in place.
	ConfigExplicit bool
	// SecretsEnvPath is the KEY=VALUE secrets file; "" means
	// DefaultSecretsEnvPath. A missing file is not an error.
	SecretsEnvPath string
	// Getenv looks up one environment variable. Load uses it for the known
	// variables only when Environ is nil, and then cannot detect misspelled
	// variables.
	Getenv func(string) string
	// Environ is the process environment as KEY=VALUE strings, as from
	// os.Environ. Every OPENWATCH_<SECTION>_<KEY> variable in it is applied
	// and an unknown one for a known section is an error.
	Environ []string
	// Flags maps section.key to the value of a flag set on the command line,
	// as returned by the function RegisterFlags returns.
	Flags map[string]string
}

// envVar is one NAME=VALUE pair from the environment or the secrets file.
type envVar struct {
	name, value string
}

// Load resolves the configuration from defaults, the TOML file, the secrets
// file, the environment and flags, each overriding the ones before it, then
// validates the result and makes server.data_dir absolute.
//
// An empty environment or secrets-file value counts as unset, so it never
// overrides a value from an earlier layer. Every error names the key it is
// about in section.key form; several problems are joined into one error.
func Load(src Sources) (Config, error) {
	c := Default()
	all := fields()

	path := src.ConfigPath
	if path == "" {
		path = DefaultConfigPath
	}
	if err := loadTOML(&c, all, path, src.ConfigExplicit); err != nil {
		return Config{}, err
	}

	var errs []error
	secretsPath := src.SecretsEnvPath
	if secretsPath == "" {
		secretsPath = DefaultSecretsEnvPath
	}
	secretVars, err := readEnvFile(secretsPath)
	if err != nil {
		return Config{}, err
	}
	errs = append(errs, applyEnv(&c, all, secretVars, "secrets file "+secretsPath)...)

	switch {
	case src.Environ != nil:
		errs = append(errs, applyEnv(&c, all, parseEnviron(src.Environ), "environment")...)
	case src.Getenv != nil:
		var vars []envVar
		for _, f := range all {
			if v := src.Getenv(f.envName()); v != "" {
				vars = append(vars, envVar{f.envName(), v})
			}
		}
		errs = append(errs, applyEnv(&c, all, vars, "environment")...)
	}

	errs = append(errs, applyFlags(&c, all, src.Flags)...)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := c.normalize(); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loadTOML decodes the TOML file at path over *c. A missing file is an error
// only when explicit is true.
func loadTOML(c *Config, all []field, path string, explicit bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: read config file: %w", err)
	}

	// A first pass into plain maps reports syntax errors and lets every
	// type mismatch be told with the key's name, which the decoder's own
	// messages only hint at.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return tomlError(path, err)
	}
	var errs []error
	for _, f := range all {
		table, present := raw[f.section]
		if !present {
			continue
		}
		t, ok := table.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("config: %s: want a table [%s], not %s (in %s)", f.section, f.section, article(tomlTypeName(table)), path))
			continue
		}
		v, present := t[f.key]
		if !present {
			continue
		}
		if want := wantTOMLType(f.typ); want != tomlTypeName(v) {
			errs = append(errs, fmt.Errorf("config: %s: want %s, not %s (in %s)", f.name(), article(want), article(tomlTypeName(v)), path))
		}
	}
	if len(errs) > 0 {
		return errors.Join(slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })...)
	}

	md, err := toml.Decode(string(data), c)
	if err != nil {
		return tomlError(path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		errs := make([]error, 0, len(undecoded))
		for _, k := range undecoded {
			errs = append(errs, fmt.Errorf("config: %s: unknown key %s", path, k))
		}
		return errors.Join(errs...)
	}
	return nil
}

// tomlError rewrites a decoder error to name the file and, when the decoder
// knows it, the key.
func tomlError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		if pe.LastKey != "" && strings.Contains(pe.LastKey, ".") {
			return fmt.Errorf("config: %s: %s (in %s, line %d)", pe.LastKey, pe.Message, path, pe.Position.Line)
		}
		return fmt.Errorf("config: %s: line %d: %s", path, pe.Position.Line, pe.Message)
	}
	return fmt.Errorf("config: %s: %w", path, err)
}

// wantTOMLType returns the TOML type a Go field of type t is written as.
func wantTOMLType(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()) {
		return "string"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

// tomlTypeName names the TOML type of a value decoded into any.
func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case map[string]any:
		return "table"
	case []any, []map[string]any:
		return "array"
	}
	return "date or time"
}

// article prefixes a type name with "a" or "an".
func article(s string) string {
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// parseEnviron splits os.Environ-style KEY=VALUE strings.
func parseEnviron(environ []string) []envVar {
	vars := make([]envVar, 0, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		vars = append(vars, envVar{name, value})
	}
	return vars
}

// readEnvFile reads a secrets file of KEY=VALUE lines. Blank lines and lines
// starting with # are skipped, an "export " prefix is allowed, and a value
// may be wrapped in single quotes (taken literally) or double quotes (where
// \" \\ and \n are unescaped). A missing file yields no variables.
func readEnvFile(path string) ([]envVar, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: read secrets file: %w", err)
	}
	var vars []envVar
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("config: %s: line %d is not KEY=VALUE", path, n)
		}
		value, err := unquoteEnvValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("config: %s: line %d (%s): %w", path, n, name, err)
		}
		vars = append(vars, envVar{name, value})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config: read secrets file %s: %w", path, err)
	}
	return vars, nil
}

// unquoteEnvValue strips one level of matching quotes from a secrets-file
// value.
func unquoteEnvValue(v string) (string, error) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, nil
	}
	q := v[0]
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("unterminated quoted value")
	}
	inner := v[1 : len(v)-1]
	if q == '\'' {
		return inner, nil
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		ch := inner[i]
		if ch == '\\' && i+1 < len(inner) {
			i++
			switch inner[i] {
			case 'n':
				b.WriteByte('\n')
			case '"', '\\':
				b.WriteByte(inner[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(inner[i])
			}
			continue
		}
		b.WriteByte(ch)
	}
	return b.String(), nil
}

// applyEnv sets the keys named by OPENWATCH_<SECTION>_<KEY> variables. A
// variable for a known section but an unknown key is an error, so a typo
// does not go unnoticed; other variables, such as OPENWATCH_TEST_DSN, are
// ignored. origin says where the variables came from, for errors.
func applyEnv(c *Config, all []field, vars []envVar, origin string) []error {
	byEnv := make(map[string]field, len(all))
	for _, f := range all {
		byEnv[f.envName()] = f
	}
	secs := sections(all)
	var errs []error
	for _, ev := range vars {
		rest, ok := strings.CutPrefix(ev.name, envPrefix)
		if !ok {
			continue
		}
		section, _, ok := strings.Cut(rest, "_")
		if !ok || !secs[strings.ToLower(section)] || section != strings.ToUpper(section) {
			continue
		}
		f, ok := byEnv[ev.name]
		if !ok {
			errs = append(errs, fmt.Errorf("config: unknown variable %s in %s: %s has no such key", ev.name, origin, strings.ToLower(section)))
			continue
		}
		if ev.value == "" {
			continue
		}
		if err := setText(f.value(c), ev.value, f.secret); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w (from %s in %s)", f.name(), err, ev.name, origin))
		}
	}
	return errs
}

// applyFlags sets the keys in flags, a map from section.key to value.
func applyFlags(c *Config, all []field, flags map[string]string) []error {
	byName := make(map[string]field, len(all))
	for _, f := range all {
		byName[f.name()] = f
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		f, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("config: unknown flag key %q", name))
			continue
		}
		if err := setText(f.value(c), flags[name], f.secret); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w (from flag --%s)", f.name(), err, f.flagName()))
		}
	}
	return errs
}
