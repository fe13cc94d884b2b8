package credential_test

import (
	"bytes"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/seal"
)

// storedValue is one sealed value in the database and where it is bound.
type storedValue struct {
	ad seal.AD
	ct []byte
}

// sealedValues returns every sealed value the product stores.
func sealedValues(t testing.TB, b *bundle) []storedValue {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `
		SELECT 'ssh_credentials', 'private_key_sealed', id, private_key_sealed FROM ssh_credentials WHERE private_key_sealed IS NOT NULL
		UNION ALL SELECT 'ssh_credentials', 'passphrase_sealed', id, passphrase_sealed FROM ssh_credentials WHERE passphrase_sealed IS NOT NULL
		UNION ALL SELECT 'ssh_credentials', 'password_sealed', id, password_sealed FROM ssh_credentials WHERE password_sealed IS NOT NULL
		UNION ALL SELECT 'users', 'mfa_secret_sealed', id, mfa_secret_sealed FROM users WHERE mfa_secret_sealed IS NOT NULL
		UNION ALL SELECT 'audit_keys', 'sealed_key', id, sealed_key FROM audit_keys
		ORDER BY 1, 2, 3`)
	require.NoError(t, err)
	defer rows.Close()
	var out []storedValue
	for rows.Next() {
		var v storedValue
		var id uuid.UUID
		require.NoError(t, rows.Scan(&v.ad.Table, &v.ad.Column, &id, &v.ct))
		v.ad.RowID = id.String()
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// rekeyFixture fills b's database with one value of every sealed column under b's key,
// and returns the plaintext of each by where it is stored.
func rekeyFixture(t testing.TB, b *bundle) map[seal.AD]string {
	t.Helper()
	enc := newKey(t, "ed25519", openSSHEncrypted, "", "pp")
	b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "both", Username: "root",
		AuthMethod: credential.AuthBoth, PrivateKey: enc.PEM, PrivateKeyPassphrase: "pp", Password: "pw1"})
	gone := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "gone", Username: "root",
		AuthMethod: credential.AuthPassword, Password: "pw2"})
	require.NoError(t, b.svc.Delete(b.ctx, b.actor, gone.ID))

	userID := uuid.Must(uuid.NewV7())
	userAD := seal.AD{Table: "users", Column: "mfa_secret_sealed", RowID: userID.String()}
	totp, err := b.keyring.Seal([]byte("JBSWY3DPEHPK3PXP"), userAD)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO users (id, username, email, password_hash, mfa_secret_sealed)
		VALUES ($1, 'bob', 'bob@example.com', 'x', $2)`, userID, totp)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO users (id, username, email, password_hash) VALUES ($1, 'carol', 'carol@example.com', 'x')`,
		uuid.Must(uuid.NewV7()))
	require.NoError(t, err)

	want := map[seal.AD]string{}
	for _, v := range sealedValues(t, b) {
		require.True(t, bytes.HasPrefix(v.ct, []byte("ow1:"+b.keyring.ActiveKeyID()+":")))
		plain, err := b.keyring.Open(v.ct, v.ad)
		require.NoError(t, err, "%v", v.ad)
		want[v.ad] = string(plain)
	}
	require.Len(t, want, 6, "key, passphrase, two passwords (one deleted), a TOTP secret and the audit key")
	return want
}

func TestRekeyAll(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want := rekeyFixture(t, b)
	auditKey, err := audit.LoadOrCreateKey(b.ctx, b.pool, b.keyring)
	require.NoError(t, err)

	next, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err := credential.RekeyAll(b.ctx, b.pool, b.keyring, next)
	require.NoError(t, err)
	require.Equal(t, len(want), n)

	fresh, err := seal.LoadOrCreate(b.keyPath)
	require.NoError(t, err)
	require.Equal(t, next.ActiveKeyID(), fresh.ActiveKeyID())
	got := map[seal.AD]string{}
	for _, v := range sealedValues(t, b) {
		require.True(t, bytes.HasPrefix(v.ct, []byte("ow1:"+next.ActiveKeyID()+":")), "%v carries the new key id", v.ad)
		_, err := b.keyring.Open(v.ct, v.ad)
		require.ErrorIs(t, err, seal.ErrUnknownKey, "the old keyring no longer opens %v", v.ad)
		plain, err := fresh.Open(v.ct, v.ad)
		require.NoError(t, err, "%v", v.ad)
		got[v.ad] = string(plain)
	}
	require.Equal(t, want, got)

	// The services read the re-sealed values through the new keyring.
	again, err := audit.LoadOrCreateKey(b.ctx, b.pool, fresh)
	require.NoError(t, err)
	require.Equal(t, auditKey, again)
	svc := credential.NewService(b.pool, fresh, audit.NewWriter(b.pool, again, nil), nil)
	page, err := svc.List(b.ctx, cursor.First(cursor.ByID{}, 50))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	sec, err := svc.Secret(b.ctx, page.Items[0].ID)
	require.NoError(t, err)
	require.Equal(t, "pw1", sec.Password)
	require.Equal(t, "pp", sec.Passphrase)

	// A second run moves everything again, to a third key.
	third, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err = credential.RekeyAll(b.ctx, b.pool, fresh, third)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
}

func TestRekeyAllRollsBackOnFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rekeyFixture(t, b)

	// A corrupt value in the last table RekeyAll visits: everything before it was re-sealed
	// in the transaction when it fails.
	_, err := b.pool.Exec(b.ctx, `UPDATE audit_keys
		SET sealed_key = set_byte(sealed_key, length(sealed_key) - 1, get_byte(sealed_key, length(sealed_key) - 1) # 1)`)
	require.NoError(t, err)
	before := sealedValues(t, b)

	next, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err := credential.RekeyAll(b.ctx, b.pool, b.keyring, next)
	require.ErrorIs(t, err, seal.ErrNotAuthentic)
	require.Zero(t, n)
	require.Contains(t, err.Error(), "audit_keys.sealed_key", "the error says which value failed")
	require.Equal(t, before, sealedValues(t, b), "nothing was re-sealed")
	for _, v := range before {
		require.True(t, bytes.HasPrefix(v.ct, []byte("ow1:"+b.keyring.ActiveKeyID()+":")), "%v keeps the old key id", v.ad)
	}
}
