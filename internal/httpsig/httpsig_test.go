package httpsig_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/httpsig"
)

func TestSignerRoundTrip(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{1}, 32)
	s := &httpsig.Signer{KeyID: "k1", Key: key, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	req, err := http.NewRequest(http.MethodPost, "https://ow.example/api/v1/things?x=1", bytes.NewReader([]byte(`{"a":1}`)))
	require.NoError(t, err)
	require.NoError(t, s.Sign(req))
	require.Equal(t, "sha-256=:AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=:", req.Header.Get("Content-Digest"))
	// RFC 9530's example.
	require.Equal(t, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", httpsig.Digest([]byte(`{"hello": "world"}`)))

	in, err := httpsig.ParseInput(req.Header.Get("Signature-Input"), httpsig.Label)
	require.NoError(t, err)
	require.Equal(t, []string{"@method", "@target-uri", "content-digest"}, in.Components)
	created, _ := in.GetInt("created")
	require.EqualValues(t, 1700000000, created)
	keyid, _ := in.Get("keyid")
	require.Equal(t, "k1", keyid)
	sig, err := httpsig.ParseSignature(req.Header.Get("Signature"), httpsig.Label)
	require.NoError(t, err)
	base, err := httpsig.Base(req, "https://ow.example/api/v1/things?x=1", in)
	require.NoError(t, err)
	require.Contains(t, string(base), "\"@method\": POST\n\"@target-uri\": https://ow.example/api/v1/things?x=1\n")
	require.NoError(t, httpsig.Verify(key, base, sig))
	require.ErrorIs(t, httpsig.Verify(bytes.Repeat([]byte{2}, 32), base, sig), httpsig.ErrBadSignature)
	require.NoError(t, httpsig.CheckDigest(req.Header.Get("Content-Digest"), []byte(`{"a":1}`)))
	require.ErrorIs(t, httpsig.CheckDigest(req.Header.Get("Content-Digest"), []byte(`{"a":2}`)), httpsig.ErrDigest)
	body, _ := req.GetBody()
	var b bytes.Buffer
	_, _ = b.ReadFrom(body)
	require.Equal(t, `{"a":1}`, b.String(), "the body is restored")
}

func TestParseInput(t *testing.T) {
	t.Parallel()
	in, err := httpsig.ParseInput(`other=("@path");created=1, ow=("@method" "@path" "@query");created=1618884473;keyid="a\"b";nonce="n-1"`, "ow")
	require.NoError(t, err)
	require.Equal(t, []string{"@method", "@path", "@query"}, in.Components)
	require.Equal(t, `("@method" "@path" "@query");created=1618884473;keyid="a\"b";nonce="n-1"`, in.String())
	for _, bad := range []string{``, `ow=`, `ow="@method"`, `ow=("@method"`, `ow=("@method");created`, `ow=("@method");created=x`, `ow=(@method)`} {
		_, err := httpsig.ParseInput(bad, "ow")
		require.ErrorIs(t, err, httpsig.ErrMalformed, bad)
	}
	_, err = httpsig.ParseSignature(`ow=:not base64!:`, "ow")
	require.ErrorIs(t, err, httpsig.ErrMalformed)
}
