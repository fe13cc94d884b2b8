package license

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTrustedKeys(t *testing.T) {
	t.Parallel()
	f := setup(t)
	data := keySet(t,
		jwkJSON(t, f.current.pub, map[string]any{"kid": f.current.kid, "use": "sig", "alg": "EdDSA"}),
		jwkJSON(t, f.previous.pub, map[string]any{"kid": f.previous.kid, "openwatch_previous": true}),
	)
	keys, err := ParseTrustedKeys(data)
	require.NoError(t, err)
	require.Equal(t, []TrustedKey{
		{KID: f.current.kid, Public: f.current.pub},
		{KID: f.previous.kid, Public: f.previous.pub, Previous: true},
	}, keys)

	v := NewVerifier(keys, 0, f.clock.Now)
	require.False(t, v.State(f.mint(t, nil)).UsingPrevKey)
	tok, err := Mint(f.previous.priv, f.previous.kid, f.claims())
	require.NoError(t, err)
	st := v.State(tok)
	require.Equal(t, StatusActive, st.Status)
	require.True(t, st.UsingPrevKey, "a key marked openwatch_previous")
}

func TestParseTrustedKeysSingleKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	data, err := json.Marshal(jwkJSON(t, f.current.pub, map[string]any{"kid": "solo", "openwatch_previous": false}))
	require.NoError(t, err)
	keys, err := ParseTrustedKeys(data)
	require.NoError(t, err)
	require.Equal(t, []TrustedKey{{KID: "solo", Public: f.current.pub}}, keys)
}

func TestParseTrustedKeysRejects(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	pub := func(members map[string]any) map[string]any { return jwkJSON(t, f.current.pub, members) }

	tests := map[string][]byte{
		"notJSON":           []byte("not json"),
		"emptySet":          []byte(`{"keys":[]}`),
		"noKID":             keySet(t, pub(nil)),
		"duplicateKID":      keySet(t, pub(map[string]any{"kid": "a"}), jwkJSON(t, f.previous.pub, map[string]any{"kid": "a"})),
		"privateKey":        keySet(t, jwkJSON(t, f.current.priv, map[string]any{"kid": "a"})),
		"ecKey":             keySet(t, jwkJSON(t, &ec.PublicKey, map[string]any{"kid": "a"})),
		"x25519Key":         keySet(t, jwkJSON(t, x.PublicKey(), map[string]any{"kid": "a"})),
		"symmetricKey":      keySet(t, jwkJSON(t, []byte("a shared secret"), map[string]any{"kid": "a"})),
		"useEnc":            keySet(t, pub(map[string]any{"kid": "a", "use": "enc"})),
		"algES256":          keySet(t, pub(map[string]any{"kid": "a", "alg": "ES256"})),
		"previousNotABool":  keySet(t, pub(map[string]any{"kid": "a", "openwatch_previous": "yes"})),
		"previousNotABool2": keySet(t, pub(map[string]any{"kid": "a", "openwatch_previous": 1})),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			keys, err := ParseTrustedKeys(data)
			require.Error(t, err)
			require.Nil(t, keys)
		})
	}
}

func TestDefaultTrustedKeysEmpty(t *testing.T) {
	t.Parallel()
	require.Empty(t, DefaultTrustedKeys(), "the vendor's key set has not shipped yet")
	f := setup(t)
	v := NewVerifier(DefaultTrustedKeys(), 0, f.clock.Now)
	require.Equal(t, ResultUnknownKID, v.Verify(f.mint(t, nil)).Result)
}
