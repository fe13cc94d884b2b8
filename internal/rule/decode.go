package rule

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A strict decoder from YAML nodes into the rule types: every mapping key must name a
// field, every value must have the field's type, and every error carries the line of the
// node it is about. (yaml's own KnownFields does not reach into custom unmarshalers, and
// its type errors lose the file.)

// lineError is a decoding error at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func nodeErr(n *yaml.Node, format string, args ...any) error {
	return &lineError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

var (
	checkType   = reflect.TypeFor[Check]()
	guardType   = reflect.TypeFor[Guard]()
	versionType = reflect.TypeFor[Version]()
	varType     = reflect.TypeFor[Variable]()
)

// decodeNode decodes n into v (addressable).
func decodeNode(n *yaml.Node, v reflect.Value) error {
	if n.Kind == yaml.AliasNode {
		return nodeErr(n, "aliases are not allowed in rules")
	}
	switch v.Type() {
	case checkType:
		return decodeCheck(n, v.Addr().Interface().(*Check))
	case guardType:
		return decodeGuard(n, v.Addr().Interface().(*Guard))
	case versionType:
		s, err := scalarText(n, "a version such as 12 or 22.04")
		if err != nil {
			return err
		}
		if !versionPattern.MatchString(s) {
			return nodeErr(n, "%q is not a version such as 12 or 22.04", s)
		}
		v.SetString(s)
		return nil
	case varType:
		return decodeVariable(n, v.Addr().Interface().(*Variable))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return nodeErr(n, "a value is required")
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeNode(n, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return decodeStruct(n, v)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String && n.Tag != "!!null" {
			// A single name where a list is expected: remediation: config_set.
			s, err := scalarText(n, "a string")
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf([]string{s}).Convert(v.Type()))
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return nodeErr(n, "want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeNode(item, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nodeErr(n, "want a mapping, got %s", describe(n))
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key, err := scalarText(k, "a key")
			if err != nil {
				return err
			}
			if m.MapIndex(reflect.ValueOf(key)).IsValid() {
				return nodeErr(k, "duplicate key %q", key)
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeNode(val, elem); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key), elem)
		}
		v.Set(m)
		return nil
	case reflect.String:
		s, err := scalarText(n, "a string")
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return nodeErr(n, "want true or false, got %s", describe(n))
		}
		b, _ := strconv.ParseBool(n.Value)
		v.SetBool(b)
		return nil
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return nodeErr(n, "want an integer, got %s", describe(n))
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return nodeErr(n, "want an integer: %v", err)
		}
		v.SetInt(i)
		return nil
	}
	return nodeErr(n, "cannot decode into %s", v.Type())
}

// scalarText returns a scalar's text. Numbers are accepted where text is expected
// (expected: 1); booleans, nulls, lists and mappings are not.
func scalarText(n *yaml.Node, want string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", nodeErr(n, "want %s, got %s", want, describe(n))
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float":
		return n.Value, nil
	}
	return "", nodeErr(n, "want %s, got %s (quote it if it is text)", want, describe(n))
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!bool":
		return "a boolean (" + n.Value + ")"
	case "!!int", "!!float":
		return "a number (" + n.Value + ")"
	}
	return fmt.Sprintf("%q", n.Value)
}

// fieldsOf maps a struct's yaml keys to field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
	}
	return fields
}

func decodeStruct(n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "want a mapping, got %s", describe(n))
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			return nodeErr(k, "unknown key %q (known: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))
		}
		if seen[k.Value] {
			return nodeErr(k, "duplicate key %q", k.Value)
		}
		seen[k.Value] = true
		if err := decodeNode(val, v.Field(idx)); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// decodeCheck reads {method: NAME, ...params} or {all_of: [checks]}.
func decodeCheck(n *yaml.Node, c *Check) error {
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "want a check (a mapping with method, or all_of), got %s", describe(n))
	}
	var method, allOf *yaml.Node
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	for i := 0; i < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "method":
			method = n.Content[i+1]
		case "all_of":
			allOf = n.Content[i+1]
			if len(n.Content) != 2 {
				return nodeErr(k, "all_of stands alone: put every other key inside one of its checks")
			}
		default:
			rest.Content = append(rest.Content, k, n.Content[i+1])
		}
	}
	if allOf != nil {
		if allOf.Kind != yaml.SequenceNode || len(allOf.Content) < 2 {
			return nodeErr(allOf, "all_of wants a list of at least two checks")
		}
		c.AllOf = make([]Check, len(allOf.Content))
		for i, item := range allOf.Content {
			if err := decodeCheck(item, &c.AllOf[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if method == nil {
		return nodeErr(n, "a check needs a method (one of %s) or all_of", strings.Join(MethodNames(), ", "))
	}
	name, err := scalarText(method, "a method name")
	if err != nil {
		return err
	}
	t, ok := Methods[name]
	if !ok {
		return nodeErr(method, "unknown check method %q (known: %s)", name, strings.Join(MethodNames(), ", "))
	}
	p := reflect.New(t)
	if err := decodeStruct(rest, p.Elem()); err != nil {
		return err
	}
	c.Method, c.Params = name, p.Interface()
	if err := c.validate(); err != nil {
		return nodeErr(n, "%v", err)
	}
	return nil
}

// decodeGuard reads a capability name or {all: [names]}.
func decodeGuard(n *yaml.Node, g *Guard) error {
	var names []string
	var at []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode:
		s, err := scalarText(n, "a capability")
		if err != nil {
			return err
		}
		names, at = []string{s}, []*yaml.Node{n}
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "all" && n.Content[1].Kind == yaml.SequenceNode:
		for _, item := range n.Content[1].Content {
			s, err := scalarText(item, "a capability")
			if err != nil {
				return err
			}
			names, at = append(names, s), append(at, item)
		}
		if len(names) < 2 {
			return nodeErr(n, "all wants at least two capabilities")
		}
	default:
		return nodeErr(n, "want a capability or {all: [capabilities]}, got %s", describe(n))
	}
	for i, s := range names {
		if !contains(Capabilities, s) {
			return nodeErr(at[i], "unknown capability %q (known: %s)", s, strings.Join(Capabilities, ", "))
		}
	}
	g.All = names
	return nil
}

// decodeVariable reads {default: V, description: D}, or a bare scalar as the default
// (null: no default).
func decodeVariable(n *yaml.Node, v *Variable) error {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		s, err := scalarText(n, "a default value")
		if err != nil {
			return err
		}
		v.Default = &s
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "want a default value or {default, description}, got %s", describe(n))
	}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "default":
			if val.Tag == "!!null" {
				continue
			}
			s, err := scalarText(val, "a default value")
			if err != nil {
				return err
			}
			v.Default = &s
		case "description":
			s, err := scalarText(val, "a string")
			if err != nil {
				return err
			}
			v.Description = s
		default:
			return nodeErr(k, "unknown key %q (known: default, description)", k.Value)
		}
	}
	return nil
}
