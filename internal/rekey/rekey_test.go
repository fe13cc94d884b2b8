package rekey_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/rekey"
	"github.com/openwatch/openwatch/internal/report"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sso"
)

func ptr[T any](v T) *T { return &v }

// bundle is a fresh database with a key file, the audit key sealed under it, and the
// services that seal values.
type bundle struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	keyPath  string
	keyring  *seal.Keyring
	auditKey []byte
	creds    *credential.Service
	auth     *auth.Service
	now      time.Time
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	keyPath := filepath.Join(t.TempDir(), "seal.json")
	keyring, err := seal.LoadOrCreate(keyPath)
	require.NoError(t, err)
	b := &bundle{ctx: ctx, pool: pool, keyPath: keyPath, keyring: keyring, now: time.Now()}
	b.auditKey, b.creds, b.auth = b.services(t, keyring)
	return b
}

// services returns the audit key and the services that seal values, reading and sealing
// under keyring.
func (b *bundle) services(t testing.TB, keyring *seal.Keyring) ([]byte, *credential.Service, *auth.Service) {
	t.Helper()
	key, err := audit.LoadOrCreateKey(b.ctx, b.pool, keyring)
	require.NoError(t, err)
	now := func() time.Time { return b.now }
	w := audit.NewWriter(b.pool, key, now)
	as, err := auth.NewService(b.pool, nil, keyring, w,
		auth.Config{Password: auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1}},
		slog.New(slog.DiscardHandler), now)
	require.NoError(t, err)
	return key, credential.NewService(b.pool, keyring, w, now), as
}

// stored is one sealed value in the database and where it is bound.
type stored struct {
	ad seal.AD
	ct []byte
}

// sealedValues returns every value of every column of the registry, read with SQL of
// its own rather than the columns' List.
func sealedValues(t testing.TB, b *bundle) []stored {
	t.Helper()
	var out []stored
	for _, c := range rekey.Columns() {
		rows, err := b.pool.Query(b.ctx, fmt.Sprintf(`SELECT id, %[2]s FROM %[1]s WHERE %[2]s IS NOT NULL ORDER BY id`,
			pgx.Identifier{c.Table}.Sanitize(), pgx.Identifier{c.Name}.Sanitize()))
		require.NoError(t, err)
		for rows.Next() {
			var id uuid.UUID
			var ct []byte
			require.NoError(t, rows.Scan(&id, &ct))
			out = append(out, stored{ad: c.AD(id), ct: ct})
		}
		require.NoError(t, rows.Err())
	}
	return out
}

// encryptedKey returns a new Ed25519 private key in OpenSSH PEM, encrypted with passphrase.
func encryptedKey(t testing.TB, passphrase string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	require.NoError(t, err)
	return string(pem.EncodeToMemory(block))
}

// fixture fills b's database, through the services that seal them, with values of every
// sealed column under b's key, and returns the plaintext of each by where it is stored,
// and the id and TOTP secret of a user.
func fixture(t testing.TB, b *bundle) (map[seal.AD]string, uuid.UUID, string) {
	t.Helper()
	actor := &authz.Principal{UserID: uuid.MustParse("0190a3f4-0000-7000-8000-00000000a11c"), Username: "alice"}
	_, err := b.creds.Create(b.ctx, actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "both", Username: "root",
		AuthMethod: credential.AuthBoth, PrivateKey: encryptedKey(t, "pp"), PrivateKeyPassphrase: "pp", Password: "pw1"})
	require.NoError(t, err)
	gone, err := b.creds.Create(b.ctx, actor, credential.CreateInput{Scope: credential.ScopeSystem, Name: "gone", Username: "root",
		AuthMethod: credential.AuthPassword, Password: "pw2"})
	require.NoError(t, err)
	require.NoError(t, b.creds.Delete(b.ctx, actor, gone.ID))

	userID := uuid.Must(uuid.NewV7())
	_, err = b.pool.Exec(b.ctx, `INSERT INTO users (id, username, email, password_hash) VALUES ($1, 'bob', 'bob@example.com', 'x'),
		($2, 'carol', 'carol@example.com', 'x')`, userID, uuid.Must(uuid.NewV7()))
	require.NoError(t, err)
	enrolment, err := b.auth.EnrollMFA(b.ctx, &authz.Principal{UserID: userID, Username: "bob"})
	require.NoError(t, err)

	auditKey, err := audit.LoadOrCreateKey(b.ctx, b.pool, b.keyring)
	require.NoError(t, err)
	notifications := notify.NewService(b.pool, b.keyring, audit.NewWriter(b.pool, auditKey, func() time.Time { return b.now }),
		nil, notify.Options{})
	_, err = notifications.Create(b.ctx, actor, notify.CreateInput{Name: "hook", Type: notify.TypeWebhook, Enabled: true,
		Config: notify.Config{URL: "http://127.0.0.1:9/hook"}, Secret: "whsec"})
	require.NoError(t, err)
	ca := sshca.NewService(b.pool, b.keyring, audit.NewWriter(b.pool, auditKey, func() time.Time { return b.now }), func() time.Time { return b.now })
	for _, kind := range []string{sshca.KindUser, sshca.KindHost} {
		_, err = ca.Get(b.ctx, kind)
		require.NoError(t, err)
	}

	_, err = sso.NewService(b.pool, audit.NewWriter(b.pool, auditKey, func() time.Time { return b.now }), b.keyring, nil, sso.Options{}).
		Create(b.ctx, &authz.Principal{UserID: actor.UserID, Permissions: authz.RolePermissions(authz.RoleAdmin)},
			sso.Input{Name: "Corp", Issuer: "https://idp.example.com", ClientID: "openwatch", ClientSecret: ptr("sso-secret"), Enabled: true})
	require.NoError(t, err)

	_, err = report.NewService(b.pool, b.keyring, audit.NewWriter(b.pool, auditKey, func() time.Time { return b.now }), nil, nil,
		report.Options{Now: func() time.Time { return b.now }}).Keys(b.ctx)
	require.NoError(t, err)

	saID, tokenID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	_, sealedKey, err := b.auth.NewSigningKey(tokenID)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO service_accounts (id, name, role, created_by) VALUES ($1, 'robot', 'viewer', 'x')`, saID)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO api_tokens (id, service_account_id, name, secret_hash, role, created_by, signing_key_sealed)
		VALUES ($1, $2, 'signed', '\x00', 'viewer', 'x', $3)`, tokenID, saID, sealedKey)
	require.NoError(t, err)

	want := map[seal.AD]string{}
	perColumn := map[string]int{}
	for _, v := range sealedValues(t, b) {
		require.True(t, bytes.HasPrefix(v.ct, []byte("ow1:"+b.keyring.ActiveKeyID()+":")))
		plain, err := b.keyring.Open(v.ct, v.ad)
		require.NoError(t, err, "the service sealed %v with the AD of its registry entry", v.ad)
		want[v.ad] = string(plain)
		perColumn[v.ad.Table+"."+v.ad.Column]++
	}
	for _, c := range rekey.Columns() {
		require.Positive(t, perColumn[c.String()], "the fixture stores a value in %s", c)
	}
	require.Len(t, want, 12, "key, passphrase, two passwords (one deleted), a TOTP secret, the audit key, a webhook secret, a token's signing key, the two SSH CA keys, an SSO client secret and the report signing key")
	return want, userID, enrolment.Secret
}

func TestRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want, userID, totpSecret := fixture(t, b)

	next, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err := rekey.Run(b.ctx, b.pool, b.keyring, next)
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
	auditKey, creds, as := b.services(t, fresh)
	require.Equal(t, b.auditKey, auditKey)
	page, err := creds.List(b.ctx, cursor.First(cursor.ByID{}, 50))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	sec, err := creds.Secret(b.ctx, page.Items[0].ID)
	require.NoError(t, err)
	require.Equal(t, "pw1", sec.Password)
	require.Equal(t, "pp", sec.Passphrase)
	code, err := totp.GenerateCode(totpSecret, b.now)
	require.NoError(t, err)
	codes, err := as.VerifyMFA(b.ctx, &authz.Principal{UserID: userID, Username: "bob"}, "127.0.0.1", code)
	require.NoError(t, err, "the TOTP secret opens under the new key")
	require.NotEmpty(t, codes)
	rawPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	userPub, err := ssh.NewPublicKey(rawPub)
	require.NoError(t, err)
	_, err = sshca.NewService(b.pool, fresh, nil, nil).SignUserCert(b.ctx, userPub, "scan", time.Minute, "")
	require.NoError(t, err, "the SSH user CA key opens under the new key")

	// A second run moves everything again, to a third key.
	third, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err = rekey.Run(b.ctx, b.pool, fresh, third)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
}

func TestRunRollsBackOnFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fixture(t, b)

	// Corrupt values in the last column Run visits: everything before them was re-sealed in
	// the transaction when it fails.
	cols := rekey.Columns()
	last := cols[len(cols)-1]
	_, err := b.pool.Exec(b.ctx, fmt.Sprintf(`UPDATE %[1]s SET %[2]s = set_byte(%[2]s, length(%[2]s) - 1, get_byte(%[2]s, length(%[2]s) - 1) # 1)`,
		pgx.Identifier{last.Table}.Sanitize(), pgx.Identifier{last.Name}.Sanitize()))
	require.NoError(t, err)
	before := sealedValues(t, b)

	next, err := seal.Rotate(b.keyPath)
	require.NoError(t, err)
	n, err := rekey.Run(b.ctx, b.pool, b.keyring, next)
	require.ErrorIs(t, err, seal.ErrNotAuthentic)
	require.Zero(t, n)
	require.Contains(t, err.Error(), last.String(), "the error says which value failed")
	require.Equal(t, before, sealedValues(t, b), "nothing was re-sealed")
	for _, v := range before {
		require.True(t, bytes.HasPrefix(v.ct, []byte("ow1:"+b.keyring.ActiveKeyID()+":")), "%v keeps the old key id", v.ad)
	}
}
