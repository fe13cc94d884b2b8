package config

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
)

// RegisterFlags defines one flag per configuration key on fs, named
// section-key with underscores turned into dashes (--server-listen,
// --server-data-dir, --database-dsn, --logging-level, ...). Each flag's usage
// names its environment variable and shows the built-in default.
//
// Call the returned function after fs.Parse: it yields the map for
// Sources.Flags, holding only the flags that were actually set, so an unset
// flag never overrides the file or the environment. A value that does not
// parse as the key's type (an integer, a duration) is rejected by fs.Parse.
func RegisterFlags(fs *flag.FlagSet) func() map[string]string {
	def := Default()
	values := make(map[string]*flagValue)
	for _, f := range fields() {
		v := &flagValue{field: f, shown: formatText(f.value(&def))}
		values[f.name()] = v
		usage := strings.NewReplacer("{", "`", "}", "`").Replace(f.help) + " (env " + f.envName() + ")"
		if f.secret {
			usage += "; visible to other local users in the process list, prefer the environment or the secrets file"
		}
		fs.Var(v, f.flagName(), usage)
	}
	return func() map[string]string {
		set := make(map[string]string)
		for name, v := range values {
			if v.set {
				set[name] = v.value
			}
		}
		return set
	}
}

// flagValue is the flag.Value behind one configuration key. It only records
// the text; Load applies it in its place among the layers.
type flagValue struct {
	field field
	shown string // Text shown as the default in usage.
	value string
	set   bool
}

// String returns the value set, or the built-in default before any Set.
func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	if v.set {
		if v.field.secret {
			return "<redacted>"
		}
		return v.value
	}
	return v.shown
}

// Set checks that s parses as the key's type and records it.
func (v *flagValue) Set(s string) error {
	scratch := reflect.New(v.field.typ).Elem()
	if err := setText(scratch, s, v.field.secret); err != nil {
		return fmt.Errorf("%s: %w", v.field.name(), err)
	}
	v.value = s
	v.set = true
	return nil
}
