package rekey_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/rekey"
)

// notSealed classifies the bytea columns of the schema that hold no sealed value, with
// why. A bytea column is where Seal's output is stored, so every one is either in the
// registry (rekey.Columns) or here.
var notSealed = map[string]string{
	"api_tokens.secret_hash":               "SHA-256 of a token secret",
	"audit_events.mac":                     "HMAC of the audit chain",
	"audit_events.prev_mac":                "HMAC of the audit chain",
	"audit_head.checkpoint_mac":            "HMAC of the audit chain",
	"audit_head.mac":                       "HMAC of the audit chain",
	"enrollment_requests.poll_secret_hash": "SHA-256 of an enrollment request's poll secret",
	"enrollment_tokens.token_hash":         "SHA-256 of an enrollment token",
	"event_tickets.token_hash":             "SHA-256 of a ticket",
	"evidence.hash":                        "SHA-256 of a scan result's evidence (its content address)",
	"idempotency_keys.request_hash":        "SHA-256 of a request",
	"idempotency_keys.response_body":       "a stored API response; no operation that honours Idempotency-Key returns a secret",
	"refresh_tokens.token_hash":            "SHA-256 of a refresh token",
	"river_job.unique_key":                 "River's job uniqueness digest",
	"rule_states.evidence_hash":            "SHA-256 of a scan result's evidence (its content address)",
	"rule_transitions.evidence_hash":       "SHA-256 of a scan result's evidence (its content address)",
	"sessions.cookie_secret_hash":          "SHA-256 of a cookie secret",
	"sso_handoffs.code_hash":               "SHA-256 of a single sign-on handoff code",
	"sso_logins.nonce_hash":                "SHA-256 of a sign-in's OIDC nonce",
	"sso_logins.pkce_key":                  "HMAC key deriving a sign-in's PKCE verifier with its state, which is never stored; useless without the browser's state and the provider's authorization code, and deleted at the callback",
	"sso_logins.state_hash":                "SHA-256 of a sign-in's OIDC state",
	"user_recovery_codes.code_hash":        "digest of a recovery code",
}

// TestColumnsCoverSchema walks the migrated schema: every bytea column, and every column
// whose name says it is sealed, must be a registered sealed column or be classified in
// notSealed; and every registered column must exist as bytea.
func TestColumnsCoverSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	rows, err := pool.Query(ctx, `
		SELECT c.table_name || '.' || c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND (c.data_type = 'bytea' OR c.column_name LIKE '%sealed%')
		ORDER BY 1`)
	require.NoError(t, err)
	schema := map[string]string{}
	for rows.Next() {
		var name, typ string
		require.NoError(t, rows.Scan(&name, &typ))
		schema[name] = typ
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, schema)

	registered := map[string]bool{}
	for _, c := range rekey.Columns() {
		require.False(t, registered[c.String()], "%s is registered twice", c)
		registered[c.String()] = true
		require.NotNil(t, c.List, "%s has no List", c)
		require.NotNil(t, c.Set, "%s has no Set", c)
		require.Equal(t, "bytea", schema[c.String()], "registered sealed column %s is a bytea column of the schema", c)
		_, plain := notSealed[c.String()]
		require.False(t, plain, "%s is both registered as sealed and classified as not sealed", c)
	}
	var unclassified []string
	for name := range schema {
		if _, plain := notSealed[name]; !plain && !registered[name] {
			unclassified = append(unclassified, name)
		}
	}
	slices.Sort(unclassified)
	require.Empty(t, unclassified, "columns nobody classified: declare each as a seal.Column in the package that "+
		"seals it and list it in that package's SealedColumns, or add it to notSealed saying why it holds no sealed value")
	for name := range notSealed {
		require.Contains(t, schema, name, "notSealed names %s, which is not a bytea column of the schema", name)
	}
}
