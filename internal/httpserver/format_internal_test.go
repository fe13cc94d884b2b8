package httpserver

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestJSONToYAML: values keep their types (strings that look like numbers, booleans or
// null stay strings), object keys keep their order, and the output is block style.
func TestJSONToYAML(t *testing.T) {
	t.Parallel()
	in := `{"zeta":"true","alpha":1,"s":"h\u00e9llo \"x\"\nline2","n":null,"e":"","num":"123","arr":[{"x":1.5e3},[]],"o":{},"k":"a: b","neg":-2,"f":false}`
	out, err := jsonToYAML([]byte(in))
	require.NoError(t, err)
	require.Regexp(t, `^zeta: "true"\nalpha: 1\n`, string(out), "order kept, quoted where needed")
	var fromYAML, fromJSON any
	require.NoError(t, yaml.Unmarshal(out, &fromYAML))
	require.NoError(t, json.Unmarshal([]byte(in), &fromJSON))
	b, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	var roundTrip any
	require.NoError(t, json.Unmarshal(b, &roundTrip))
	require.Equal(t, fromJSON, roundTrip)

	empty, err := jsonToYAML(nil)
	require.NoError(t, err)
	require.Empty(t, empty)
}
