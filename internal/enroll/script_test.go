package enroll

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

// TestServerURL: only plain host names and addresses are baked into the script, and the
// configured public URL wins.
func TestServerURL(t *testing.T) {
	t.Parallel()
	s := NewService(nil, nil, nil, nil, nil, nil, Options{})
	for host, want := range map[string]string{
		"ow.example.com":      "https://ow.example.com",
		"ow.example.com:8443": "https://ow.example.com:8443",
		"127.0.0.1:8443":      "https://127.0.0.1:8443",
		"[2001:db8::1]:8443":  "https://[2001:db8::1]:8443",
		"ow-1.internal.test":  "https://ow-1.internal.test",
	} {
		got, err := s.ServerURL(host)
		require.NoError(t, err, host)
		require.Equal(t, want, got, host)
	}
	for _, host := range []string{"", "ow'; rm -rf /;'", "ow.example.com:8443/x", "a b", "ow.example.com:port", "$(id)"} {
		_, err := s.ServerURL(host)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "%q: %v", host, err)
	}
	s = NewService(nil, nil, nil, nil, nil, nil, Options{PublicURL: "https://OW.example.com:8443/"})
	got, err := s.ServerURL("ignored'")
	require.NoError(t, err)
	require.Equal(t, "https://OW.example.com:8443", got)
	s = NewService(nil, nil, nil, nil, nil, nil, Options{PublicURL: "https://ow.example.com/it's"})
	_, err = s.ServerURL("ow.example.com")
	require.Error(t, err)

	require.Equal(t, "curl -fsS --cacert openwatch-ca.crt 'https://ow/api/v1/enroll.sh?token=owe_x' | sudo sh",
		Command(ScriptURL("https://ow", "owe_x"), true))
	require.Equal(t, "curl -fsS 'https://ow/api/v1/enroll.sh?token=owe_x' | sudo sh", Command(ScriptURL("https://ow", "owe_x"), false))
}
