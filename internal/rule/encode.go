package rule

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Marshal renders a rule in the corpus format, keys in the order of the Rule type and a
// check's method first. Parse(name, Marshal(r)) gives r back.
func Marshal(r *Rule) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalYAML writes {method: NAME, ...params} or {all_of: [...]}.
func (c Check) MarshalYAML() (any, error) {
	if c.AllOf != nil {
		items := make([]any, len(c.AllOf))
		for i, sub := range c.AllOf {
			v, err := sub.MarshalYAML()
			if err != nil {
				return nil, err
			}
			items[i] = v
		}
		return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			scalar("all_of"), mustNode(items),
		}}, nil
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("method"), scalar(c.Method)}}
	params := mustNode(c.Params)
	n.Content = append(n.Content, params.Content...)
	return n, nil
}

// MarshalYAML writes a capability name or {all: [names]}.
func (g Guard) MarshalYAML() (any, error) {
	if len(g.All) == 1 {
		return g.All[0], nil
	}
	return map[string][]string{"all": g.All}, nil
}

// MarshalYAML writes the default alone (null without one), or a mapping when there is a
// description.
func (v Variable) MarshalYAML() (any, error) {
	if v.Description != "" {
		return struct {
			Default     *string `yaml:"default"`
			Description string  `yaml:"description"`
		}{v.Default, v.Description}, nil
	}
	if v.Default == nil {
		return nil, nil
	}
	return *v.Default, nil
}

// MarshalYAML writes a version as a plain number where YAML reads it back as one.
func (v Version) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: string(v)}
	if strings.Contains(string(v), ".") {
		n.Style = yaml.DoubleQuotedStyle // 22.04 must not become the float 22.04
	} else {
		n.Tag = "!!int"
	}
	return n, nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// mustNode encodes v into a node; the rule types always encode.
func mustNode(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic("rule: encode " + reflect.TypeOf(v).String() + ": " + err.Error())
	}
	return &n
}

// ParamsMap renders a check's parameter struct as the rule file names its fields,
// leaving out the optional ones that are unset.
func ParamsMap(p any) (map[string]any, error) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("rule: parameters are %T, not a pointer to a struct", p)
	}
	v = v.Elem()
	t := v.Type()
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		f := v.Field(i)
		if name == "" || name == "-" || (strings.Contains(opts, "omitempty") && f.IsZero()) {
			continue
		}
		if f.Kind() == reflect.Pointer {
			f = f.Elem()
		}
		out[name] = f.Interface()
	}
	return out, nil
}
