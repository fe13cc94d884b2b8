package credential_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/cursor"
)

// marker returns a string that occurs nowhere unless a secret leaked.
func marker(t testing.TB, kind string) string {
	t.Helper()
	var b [8]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "owmarker" + kind + hex.EncodeToString(b[:])
}

// TestSecretsNeverLeak creates credentials whose password, private key and passphrase carry
// marker strings, calls every method, failing calls too, and then searches every returned
// value, every error text and every row of every table for the markers.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostID := b.host(t)
	pwMarker, keyMarker, ppMarker := marker(t, "pw"), marker(t, "key"), marker(t, "pp")
	markers := []string{pwMarker, keyMarker, ppMarker}

	// The key's comment (hidden by encryption) and a PEM header both carry the key marker,
	// so the key's text does.
	enc := newKey(t, "ed25519", openSSHEncrypted, keyMarker, ppMarker)
	block, _ := pem.Decode([]byte(enc.PEM))
	require.NotNil(t, block)
	block.Headers = map[string]string{"X-Marker": keyMarker}
	markedKey := string(pem.EncodeToMemory(block))
	require.Contains(t, markedKey, keyMarker)
	plainKey := newKey(t, "rsa2048", legacyPEM, "", "")

	var returned []any
	var errs []error
	keep := func(v any, err error) {
		returned = append(returned, v)
		if err != nil {
			errs = append(errs, err)
		}
	}

	keyCred, err := b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "key", Username: "root",
		AuthMethod: credential.AuthSSHKey, PrivateKey: markedKey, PrivateKeyPassphrase: ppMarker, IsDefault: true})
	require.NoError(t, err)
	returned = append(returned, keyCred)
	bothCred, err := b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeHost, ScopeID: &hostID, Name: "both",
		Username: "root", AuthMethod: credential.AuthBoth, PrivateKey: plainKey.PEM, Password: pwMarker})
	require.NoError(t, err)
	returned = append(returned, bothCred)

	// Failing calls carrying the markers.
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "wrong pp", Username: "root",
		AuthMethod: credential.AuthSSHKey, PrivateKey: markedKey, PrivateKeyPassphrase: ppMarker + "x"}))
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "garbage", Username: "root",
		AuthMethod: credential.AuthSSHKey, PrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n" + keyMarker + "\n-----END OPENSSH PRIVATE KEY-----\n"}))
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "garbage", Username: "root",
		AuthMethod: credential.AuthSSHKey, PrivateKey: keyMarker}))
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "no pp", Username: "root",
		AuthMethod: credential.AuthSSHKey, PrivateKey: markedKey}))
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "extra", Username: "root",
		AuthMethod: credential.AuthPassword, Password: pwMarker, PrivateKey: markedKey, PrivateKeyPassphrase: ppMarker}))
	keep(b.svc.Create(b.ctx, b.actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "long", Username: "root",
		AuthMethod: credential.AuthPassword, Password: strings.Repeat(pwMarker, 200)}))
	keep(b.svc.Update(b.ctx, b.actor, keyCred.ID, credential.UpdateInput{PrivateKey: &markedKey, PrivateKeyPassphrase: ptr("no")}))
	keep(b.svc.Update(b.ctx, b.actor, keyCred.ID, credential.UpdateInput{Password: &pwMarker}))
	keep(b.svc.Update(b.ctx, b.actor, keyCred.ID, credential.UpdateInput{PrivateKeyPassphrase: &ppMarker}))

	// Every other method.
	keep(b.svc.Update(b.ctx, b.actor, bothCred.ID, credential.UpdateInput{Password: ptr(pwMarker + "2"), Name: ptr("both2")}))
	keep(b.svc.Update(b.ctx, b.actor, keyCred.ID, credential.UpdateInput{PrivateKey: &markedKey, PrivateKeyPassphrase: &ppMarker,
		Description: ptr("rotated")}))
	keep(b.svc.Get(b.ctx, keyCred.ID))
	keep(b.svc.Get(b.ctx, bothCred.ID))
	page, err := b.svc.List(b.ctx, cursor.First(cursor.ByID{}, 50))
	keep(page.Items, err)
	returned = append(returned, page.Next)
	keep(b.svc.Resolve(b.ctx, hostID))
	keep(b.svc.Resolve(b.ctx, b.host(t)))
	clone, err := b.svc.Clone(b.ctx, b.actor, bothCred.ID, credential.CloneInput{Scope: credential.ScopeSystem, Name: ptr("copy")})
	keep(clone, err)
	keep(b.svc.Clone(b.ctx, b.actor, keyCred.ID, credential.CloneInput{Scope: credential.ScopeHost, ScopeID: &hostID}))
	keep(nil, b.svc.Delete(b.ctx, b.actor, clone.ID))
	require.Len(t, errs, 9, "%v", errs)

	// Secret alone returns them: proof that the markers were stored at all.
	sec, err := b.svc.Secret(b.ctx, keyCred.ID)
	require.NoError(t, err)
	require.Contains(t, string(sec.PrivateKey), keyMarker)
	require.Equal(t, ppMarker, sec.Passphrase)
	sec, err = b.svc.Secret(b.ctx, bothCred.ID)
	require.NoError(t, err)
	require.Equal(t, pwMarker+"2", sec.Password)
	returned = append(returned, fmt.Sprint(sec), fmt.Sprintf("%#v", sec))

	var haystack strings.Builder
	for _, v := range returned {
		fmt.Fprintf(&haystack, "%#v\n%+v\n", v, v)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		haystack.Write(j)
	}
	for _, err := range errs {
		fmt.Fprintf(&haystack, "%v\n%#v\n", err, err)
	}
	audit := dumpTable(t, b, "audit_events")
	require.Contains(t, audit, "credential.updated", "the audit trail was written")
	db := dumpDatabase(t, b)
	for _, m := range markers {
		require.NotContains(t, haystack.String(), m, "a returned value or error leaks a secret")
		require.NotContains(t, audit, m, "an audit event leaks a secret")
		require.NotContains(t, db, m, "the database holds a secret in clear")
		require.NotContains(t, db, hex.EncodeToString([]byte(m)), "the database holds a secret in clear (bytea)")
	}
}

// dumpTable returns every row of table as text.
func dumpTable(t testing.TB, b *bundle, table string) string {
	t.Helper()
	var s string
	require.NoError(t, b.pool.QueryRow(b.ctx,
		fmt.Sprintf(`SELECT coalesce(string_agg(t::text, E'\n'), '') FROM %s t`, pgx.Identifier{table}.Sanitize())).Scan(&s))
	return s
}

// dumpDatabase returns every row of every table of the database as text, like a dump.
func dumpDatabase(t testing.TB, b *bundle) string {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT schemaname, tablename FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)
	require.NoError(t, err)
	var tables []pgx.Identifier
	for rows.Next() {
		var schema, name string
		require.NoError(t, rows.Scan(&schema, &name))
		tables = append(tables, pgx.Identifier{schema, name})
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, tables)
	var out strings.Builder
	for _, tbl := range tables {
		var s string
		require.NoError(t, b.pool.QueryRow(b.ctx,
			fmt.Sprintf(`SELECT coalesce(string_agg(t::text, E'\n'), '') FROM %s t`, tbl.Sanitize())).Scan(&s))
		out.WriteString(s)
	}
	return out.String()
}

func TestCopiedCiphertextFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := func() string { return newKey(t, "ed25519", openSSH, "", "").PEM }
	a := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "a", Username: "root",
		AuthMethod: credential.AuthBoth, PrivateKey: key(), Password: "pw-a"})
	victim := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "b", Username: "root",
		AuthMethod: credential.AuthBoth, PrivateKey: key(), Password: "pw-b"})

	_, err := b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET private_key_sealed = (SELECT private_key_sealed FROM ssh_credentials WHERE id = $1)
		WHERE id = $2`, a.ID, victim.ID)
	require.NoError(t, err)
	_, err = b.svc.Secret(b.ctx, victim.ID)
	requireCode(t, err, apperr.CodeInternal)
	require.NotContains(t, err.Error(), "pw-")
	_, err = b.svc.Clone(b.ctx, b.actor, victim.ID, credential.CloneInput{Scope: credential.ScopeSystem})
	requireCode(t, err, apperr.CodeInternal)

	// Within one row, a value moved to another column does not open either.
	_, err = b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET password_sealed = private_key_sealed WHERE id = $1`, a.ID)
	require.NoError(t, err)
	_, err = b.svc.Secret(b.ctx, a.ID)
	requireCode(t, err, apperr.CodeInternal)
}
