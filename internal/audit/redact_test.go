package audit

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecretLike(t *testing.T) {
	t.Parallel()
	secret := []string{
		"password", "Password", "PASSWORD", "new_password", "newPassword", "current-password",
		"passphrase", "key_passphrase", "passcode", "secret", "client_secret", "clientSecret",
		"totp_secret", "token", "access_token", "refreshToken", "id_token", "tokens",
		"private_key", "privateKey", "ssh_private_key", "api_key", "apiKey", "APIKey", "x-api-key",
		"otp", "otp_code", "TOTP", "recovery_code", "recoveryCodes", "authorization",
		"Authorization", "proxy_authorization", "cookie", "Set-Cookie", "cookies", "dsn",
		"database_dsn", "database_url", "credential", "credentials", "ssh_credential",
		"session_key", "pwd", "pin", "webhook_secret", "smtp_password",
	}
	plain := []string{
		"username", "email", "role", "id", "token_id", "tokenID", "token_name", "token_prefix",
		"password_changed_at", "passwordChangedAt", "secret_set", "credential_id", "credential_type",
		"token_expires_at", "token_scopes", "key_id", "kid", "footprint", "shopt", "options",
		"keyboard", "public_key", "host", "count", "", "-", "idsnapshot", "spinner",
	}
	for _, k := range secret {
		require.True(t, secretLike(k), "%q should be redacted", k)
	}
	for _, k := range plain {
		require.False(t, secretLike(k), "%q should be kept", k)
	}
}

func TestRedactPaths(t *testing.T) {
	t.Parallel()
	v, err := decodeJSON([]byte(`{
		"new_password": "hunter2",
		"items": [{"name": "a", "token": "t0"}, {"name": "b", "token": "t1"}],
		"nested": {"deeper": {"api_key": {"any": "shape"}}, "list": [["x", {"otp": 123456}]]},
		"with space": {"cookie": null},
		"9lives": {"secret": true},
		"safe": "kept"
	}`))
	require.NoError(t, err)
	var paths []string
	out := redact(v, "detail", &paths)
	require.Equal(t, []string{
		`detail["9lives"].secret`,
		"detail.items[0].token",
		"detail.items[1].token",
		"detail.nested.deeper.api_key",
		"detail.nested.list[0][1].otp",
		"detail.new_password",
		`detail["with space"].cookie`,
	}, paths)
	b, err := json.Marshal(out)
	require.NoError(t, err)
	require.JSONEq(t, `{
		"new_password": "[REDACTED]",
		"items": [{"name": "a", "token": "[REDACTED]"}, {"name": "b", "token": "[REDACTED]"}],
		"nested": {"deeper": {"api_key": "[REDACTED]"}, "list": [["x", {"otp": "[REDACTED]"}]]},
		"with space": {"cookie": "[REDACTED]"},
		"9lives": {"secret": "[REDACTED]"},
		"safe": "kept"
	}`, string(b))
}

func TestCanonicalNumber(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"1500", "1.5e3", "15e2", "1500.00", "1.500E+3", "150000e-2"},
		{"0", "-0", "0.0", "0e10", "-0.000"},
		{"-12.5", "-125e-1", "-1.25E1"},
		{"1000000000000000000000", "1e+21", "1e21"},
		{"0.0000001", "1e-7", "1E-07"},
		{"4611686018427387904", "4611686018427387904.0"},
	}
	seen := map[string]bool{}
	for _, group := range same {
		want := canonicalNumber(group[0])
		require.False(t, seen[want], "groups must differ: %s", want)
		seen[want] = true
		for _, n := range group {
			require.Equal(t, want, canonicalNumber(n), n)
		}
	}
	require.Equal(t, "15e2", canonicalNumber("1500"))
	require.Equal(t, "1e99999999999999999999", canonicalNumber("1e99999999999999999999"), "unparseable exponents stay as written")
}
