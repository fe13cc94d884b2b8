package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// envPrefix starts every environment variable that Load maps onto a key.
const envPrefix = "OPENWATCH_"

// field describes one configuration key, found by reflection over Config.
type field struct {
	section string // TOML table name, such as "server".
	key     string // TOML key inside the table, such as "data_dir".
	secret  bool   // Tagged secret:"true": never printed or echoed in errors.
	help    string // One-line description; {word} marks the placeholder a flag's usage shows.
	index   []int  // Path from Config to the field for reflect.Value.FieldByIndex.
	typ     reflect.Type
}

// name returns the key in section.key form, as used in errors and
// Sources.Flags.
func (f field) name() string { return f.section + "." + f.key }

// envName returns the environment variable for the key, such as
// OPENWATCH_SERVER_DATA_DIR.
func (f field) envName() string {
	return envPrefix + strings.ToUpper(f.section) + "_" + strings.ToUpper(f.key)
}

// flagName returns the flag for the key, such as server-data-dir.
func (f field) flagName() string {
	return f.section + "-" + strings.ReplaceAll(f.key, "_", "-")
}

// value returns the addressable field inside *c.
func (f field) value(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index)
}

// fields lists every configuration key in declaration order. Each section is a
// struct-typed field of Config with a toml tag, and each key a tagged field of
// that struct.
func fields() []field {
	var out []field
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		sf := ct.Field(i)
		section := tomlName(sf)
		if section == "" {
			continue
		}
		for j := range sf.Type.NumField() {
			kf := sf.Type.Field(j)
			key := tomlName(kf)
			if key == "" {
				continue
			}
			out = append(out, field{
				section: section,
				key:     key,
				secret:  kf.Tag.Get("secret") == "true",
				help:    kf.Tag.Get("help"),
				index:   []int{i, j},
				typ:     kf.Type,
			})
		}
	}
	return out
}

// sections returns the set of section names.
func sections(fs []field) map[string]bool {
	out := make(map[string]bool)
	for _, f := range fs {
		out[f.section] = true
	}
	return out
}

// tomlName returns the name in a struct field's toml tag, or "" for an
// untagged or skipped field.
func tomlName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// setText parses s into v according to v's type: types implementing
// encoding.TextUnmarshaler parse themselves, strings are taken as they are
// and integers must be whole decimal numbers. The error does not name the key;
// callers add it. For a secret field the error never repeats the value.
func setText(v reflect.Value, s string, secret bool) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(s)); err != nil {
			if secret {
				return fmt.Errorf("the value does not parse")
			}
			return err
		}
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			if secret {
				return fmt.Errorf("the value is not an integer")
			}
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
		return nil
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
		return nil
	}
	return fmt.Errorf("unsupported field type %s", v.Type())
}

// formatText returns v as text that setText parses back to the same value.
func formatText(v reflect.Value) string {
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v.Interface())
}
