package credential_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/cursor"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostID := b.host(t)
	encrypted := newKey(t, "ed25519", openSSHEncrypted, "hidden@example", "correct horse")

	for name, tc := range map[string]struct {
		in  credential.CreateInput
		key *testKey
	}{
		"createEd25519":       {key: ptr(newKey(t, "ed25519", openSSH, "ops@example", ""))},
		"createRSA2048":       {key: ptr(newKey(t, "rsa2048", openSSH, "rsa@example", ""))},
		"createRSA2048PKCS1":  {key: ptr(newKey(t, "rsa2048", legacyPEM, "", ""))},
		"createECDSAP256":     {key: ptr(newKey(t, "ecdsa256", openSSH, "", ""))},
		"createECDSAP384SEC1": {key: ptr(newKey(t, "ecdsa384", legacyPEM, "", ""))},
		"createEd25519PKCS8":  {key: ptr(newKey(t, "ed25519", legacyPEM, "", ""))},
		"createEncryptedWithPassphrase": {
			in:  credential.CreateInput{PrivateKeyPassphrase: "correct horse"},
			key: &encrypted,
		},
		"createPassword": {in: credential.CreateInput{AuthMethod: credential.AuthPassword, Password: "hunter2"}},
		"createBoth": {
			in:  credential.CreateInput{AuthMethod: credential.AuthBoth, Password: "hunter2"},
			key: ptr(newKey(t, "ecdsa256", openSSH, "both@example", "")),
		},
		"createHostScoped": {
			in: credential.CreateInput{Scope: credential.ScopeHost, ScopeID: &hostID, AuthMethod: credential.AuthPassword,
				Password: "hunter2"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			in.Name, in.Username, in.Description = name, "root", "made by "+name
			if in.Scope == "" {
				in.Scope = credential.ScopeSystem
			}
			if in.AuthMethod == "" {
				in.AuthMethod = credential.AuthSSHKey
			}
			if tc.key != nil {
				in.PrivateKey = tc.key.PEM
			}
			c, err := b.svc.Create(b.ctx, b.actor, in)
			require.NoError(t, err)
			require.Equal(t, in.Scope, c.Scope)
			require.Equal(t, in.ScopeID, c.ScopeID)
			require.Equal(t, name, c.Name)
			require.Equal(t, in.Description, c.Description)
			require.Equal(t, "root", c.Username)
			require.Equal(t, in.AuthMethod, c.AuthMethod)
			require.True(t, c.IsActive)
			require.False(t, c.IsDefault)
			require.Equal(t, b.actor.UserID.String(), c.CreatedBy)
			if tc.key == nil {
				require.Nil(t, c.KeyType)
				require.Nil(t, c.KeyBits)
				require.Nil(t, c.KeyFingerprint)
				require.Nil(t, c.KeyComment)
			} else {
				require.Equal(t, tc.key.Type, *c.KeyType)
				require.Equal(t, tc.key.Bits, *c.KeyBits)
				require.Equal(t, tc.key.Fingerprint, *c.KeyFingerprint)
				require.True(t, strings.HasPrefix(*c.KeyFingerprint, "SHA256:"))
				require.Equal(t, tc.key.Comment, *c.KeyComment)
			}
			got, err := b.svc.Get(b.ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, c, got)

			sec, err := b.svc.Secret(b.ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, "root", sec.Username)
			require.Equal(t, in.Password, sec.Password)
			require.Equal(t, in.PrivateKey, string(sec.PrivateKey))
			require.Equal(t, in.PrivateKeyPassphrase, sec.Passphrase)
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("oops", "secret", sec)
			encoded, err := json.Marshal(sec)
			require.NoError(t, err)
			for _, shown := range []string{fmt.Sprintf("%v %+v %#v %s", sec, sec, sec, sec), logged.String(), string(encoded)} {
				require.Contains(t, shown, "root")
				require.NotContains(t, shown, "hunter2", "printing, logging or encoding a Secret hides it")
				if in.PrivateKey != "" {
					require.NotContains(t, shown, "PRIVATE KEY")
				}
			}
		})
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := func(name string) credential.CreateInput {
		return credential.CreateInput{Scope: credential.ScopeSystem, Name: name, Username: "root",
			AuthMethod: credential.AuthPassword, Password: "pw", IsDefault: true}
	}
	first := b.create(t, in("first"))
	require.True(t, first.IsDefault)
	second := b.create(t, in("second"))
	require.True(t, second.IsDefault)
	got, err := b.svc.Get(b.ctx, first.ID)
	require.NoError(t, err)
	require.False(t, got.IsDefault, "a new default takes the flag from the old one")

	updated, err := b.svc.Update(b.ctx, b.actor, first.ID, credential.UpdateInput{IsDefault: ptr(true)})
	require.NoError(t, err)
	require.True(t, updated.IsDefault)
	got, err = b.svc.Get(b.ctx, second.ID)
	require.NoError(t, err)
	require.False(t, got.IsDefault)

	hostCred := b.create(t, credential.CreateInput{Scope: credential.ScopeHost, ScopeID: ptr(b.host(t)), Name: "h",
		Username: "root", AuthMethod: credential.AuthPassword, Password: "pw"})
	_, err = b.svc.Update(b.ctx, b.actor, hostCred.ID, credential.UpdateInput{IsDefault: ptr(true)})
	requireInvalid(t, err, "is_default")

	// The index holds even against a writer that skips the service.
	_, err = b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET is_default = true WHERE id = $1`, second.ID)
	require.Error(t, err)

	// Racing defaults: every one either wins (taking the flag) or is a Conflict, and
	// exactly one live default is left.
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = b.svc.Create(b.ctx, b.actor, in(fmt.Sprintf("racer %d", i)))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		requireCode(t, err, apperr.CodeConflict)
		require.Equal(t, "is_default", apperr.As(err).Detail["field"])
	}
	require.Positive(t, won)
	t.Logf("%d of %d racing defaults won; the others were conflicts", won, n)
	var defaults int
	require.NoError(t, b.pool.QueryRow(b.ctx,
		`SELECT count(*) FROM ssh_credentials WHERE is_default AND deleted_at IS NULL`).Scan(&defaults))
	require.Equal(t, 1, defaults)
}

func TestResolve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostID, otherHost := b.host(t), b.host(t)
	hostCred := func(name string, host uuid.UUID) credential.Credential {
		return b.create(t, credential.CreateInput{Scope: credential.ScopeHost, ScopeID: &host, Name: name,
			Username: "root", AuthMethod: credential.AuthPassword, Password: "pw"})
	}

	_, err := b.svc.Resolve(b.ctx, hostID)
	requireCode(t, err, apperr.CodeNotFound)
	require.Contains(t, apperr.As(err).HumanMessage(), "no active system default", "none applies")

	b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "plain system", Username: "root",
		AuthMethod: credential.AuthPassword, Password: "pw"})
	_, err = b.svc.Resolve(b.ctx, hostID)
	requireCode(t, err, apperr.CodeNotFound, "a system credential that is not the default never applies")

	def := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "default", Username: "root",
		AuthMethod: credential.AuthPassword, Password: "pw", IsDefault: true})
	res, err := b.svc.Resolve(b.ctx, hostID)
	require.NoError(t, err)
	require.Equal(t, credential.SourceSystemDefault, res.Source)
	require.Equal(t, def.ID, res.Credential.ID)
	require.NotEmpty(t, res.Reason)

	older := hostCred("older", hostID)
	newer := hostCred("newer", hostID)
	hostCred("another host's", otherHost)
	res, err = b.svc.Resolve(b.ctx, hostID)
	require.NoError(t, err)
	require.Equal(t, credential.SourceHost, res.Source, "a host credential beats the system default")
	require.Equal(t, newer.ID, res.Credential.ID, "the newest host credential wins")
	require.NotEmpty(t, res.Reason)

	_, err = b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET is_active = false WHERE id = $1`, newer.ID)
	require.NoError(t, err)
	res, err = b.svc.Resolve(b.ctx, hostID)
	require.NoError(t, err)
	require.Equal(t, older.ID, res.Credential.ID, "an inactive credential is ignored")

	require.NoError(t, b.svc.Delete(b.ctx, b.actor, older.ID))
	res, err = b.svc.Resolve(b.ctx, hostID)
	require.NoError(t, err)
	require.Equal(t, credential.SourceSystemDefault, res.Source, "a deleted credential is ignored")
	require.Equal(t, def.ID, res.Credential.ID)

	_, err = b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET is_active = false WHERE id = $1`, def.ID)
	require.NoError(t, err)
	_, err = b.svc.Resolve(b.ctx, hostID)
	requireCode(t, err, apperr.CodeNotFound)
	_, err = b.pool.Exec(b.ctx, `UPDATE ssh_credentials SET is_active = true WHERE id = $1`, def.ID)
	require.NoError(t, err)

	require.NoError(t, b.svc.Delete(b.ctx, b.actor, def.ID))
	_, err = b.svc.Resolve(b.ctx, hostID)
	requireCode(t, err, apperr.CodeNotFound)

	_, err = b.svc.Resolve(b.ctx, uuid.Must(uuid.NewV7()))
	requireCode(t, err, apperr.CodeNotFound)
	require.Contains(t, apperr.As(err).HumanMessage(), "host does not exist")
	b.deleteHost(t, otherHost)
	_, err = b.svc.Resolve(b.ctx, otherHost)
	requireCode(t, err, apperr.CodeNotFound)
	require.Contains(t, apperr.As(err).HumanMessage(), "host does not exist", "a deleted host resolves to nothing")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := newKey(t, "ed25519", openSSH, "first@example", "")
	c := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "ops", Username: "root",
		AuthMethod: credential.AuthPassword, Password: "old-pw"})

	u, err := b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{Name: ptr("ops2"), Description: ptr("d")})
	require.NoError(t, err)
	require.Equal(t, "ops2", u.Name)
	require.Equal(t, "d", u.Description)
	require.Equal(t, c.CreatedAt, u.CreatedAt)
	require.True(t, u.UpdatedAt.After(c.UpdatedAt))

	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthBoth)})
	requireInvalid(t, err, "private_key")

	u, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthBoth), PrivateKey: &key.PEM})
	require.NoError(t, err)
	require.Equal(t, credential.AuthBoth, u.AuthMethod)
	require.Equal(t, key.Fingerprint, *u.KeyFingerprint)
	require.Equal(t, "first@example", *u.KeyComment)
	sec, err := b.svc.Secret(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "old-pw", sec.Password, "the password is kept")
	require.Equal(t, key.PEM, string(sec.PrivateKey))

	// A new encrypted key replaces the key and brings its passphrase.
	enc := newKey(t, "ecdsa256", openSSHEncrypted, "", "pp")
	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{PrivateKey: &enc.PEM, PrivateKeyPassphrase: ptr("nope")})
	requireInvalid(t, err, "private_key_passphrase")
	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{PrivateKeyPassphrase: ptr("pp")})
	requireInvalid(t, err, "private_key")
	u, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{PrivateKey: &enc.PEM, PrivateKeyPassphrase: ptr("pp"),
		Password: ptr("new-pw")})
	require.NoError(t, err)
	require.Equal(t, enc.Fingerprint, *u.KeyFingerprint)
	require.Equal(t, credential.KeyTypeECDSA, *u.KeyType)
	require.Empty(t, *u.KeyComment, "an encrypted key hides its comment")
	sec, err = b.svc.Secret(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "new-pw", sec.Password)
	require.Equal(t, "pp", sec.Passphrase)

	// Switching to ssh_key drops the password; back to password drops the key.
	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthSSHKey), Password: ptr("x")})
	requireInvalid(t, err, "password")
	u, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthSSHKey)})
	require.NoError(t, err)
	sec, err = b.svc.Secret(b.ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, sec.Password)
	require.Equal(t, enc.PEM, string(sec.PrivateKey))
	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthPassword)})
	requireInvalid(t, err, "password")
	u, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{AuthMethod: ptr(credential.AuthPassword), Password: ptr("p3")})
	require.NoError(t, err)
	require.Nil(t, u.KeyType)
	require.Nil(t, u.KeyFingerprint)
	sec, err = b.svc.Secret(b.ctx, c.ID)
	require.NoError(t, err)
	require.Nil(t, sec.PrivateKey)
	require.Empty(t, sec.Passphrase)
	require.Equal(t, "p3", sec.Password)

	for name, in := range map[string]credential.UpdateInput{
		"updateEmptyName400":       {Name: ptr("")},
		"updateBadAuthMethod400":   {AuthMethod: ptr("telnet")},
		"updateEmptyUsername400":   {Username: ptr("")},
		"updateKeyForPassword400":  {PrivateKey: &key.PEM},
		"updateLongDescription400": {Description: ptr(strings.Repeat("x", 1025))},
	} {
		_, err := b.svc.Update(b.ctx, b.actor, c.ID, in)
		require.Error(t, err, name)
		requireCode(t, err, apperr.CodeValidationFailed)
	}

	_, err = b.svc.Update(b.ctx, b.actor, uuid.Must(uuid.NewV7()), credential.UpdateInput{Name: ptr("x")})
	requireCode(t, err, apperr.CodeNotFound)
	require.NoError(t, b.svc.Delete(b.ctx, b.actor, c.ID))
	_, err = b.svc.Update(b.ctx, b.actor, c.ID, credential.UpdateInput{Name: ptr("x")})
	requireCode(t, err, apperr.CodeNotFound)
}

func TestDeleteAndList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []uuid.UUID
	for i := range 5 {
		c := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: fmt.Sprintf("c%d", i), Username: "root",
			AuthMethod: credential.AuthPassword, Password: "pw"})
		ids = append(ids, c.ID)
	}
	require.NoError(t, b.svc.Delete(b.ctx, b.actor, ids[2]))
	requireCode(t, b.svc.Delete(b.ctx, b.actor, ids[2]), apperr.CodeNotFound)
	requireCode(t, b.svc.Delete(b.ctx, b.actor, uuid.Must(uuid.NewV7())), apperr.CodeNotFound)
	_, err := b.svc.Get(b.ctx, ids[2])
	requireCode(t, err, apperr.CodeNotFound)
	_, err = b.svc.Secret(b.ctx, ids[2])
	requireCode(t, err, apperr.CodeNotFound)
	var active bool
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT is_active FROM ssh_credentials WHERE id = $1`, ids[2]).Scan(&active))
	require.False(t, active, "a deleted credential is inactive")

	var seen []uuid.UUID
	var next *string
	for page := 0; ; page++ {
		r, err := cursor.Parse(cursor.ByID{}, next, ptr(2), cursor.Limits(api.ListCredentialsPageLimit()))
		require.NoError(t, err)
		p, err := b.svc.List(b.ctx, r)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Items), 2)
		for _, it := range p.Items {
			seen = append(seen, it.ID)
		}
		if p.Next == nil {
			break
		}
		next = p.Next
		require.Less(t, page, 5)
	}
	require.Equal(t, []uuid.UUID{ids[0], ids[1], ids[3], ids[4]}, seen)

	_, err = cursor.Parse(cursor.ByID{}, ptr("%%%"), nil, cursor.Limits(api.ListCredentialsPageLimit()))
	requireInvalid(t, err, "cursor")

	var actions []string
	for _, e := range b.auditEvents(t) {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"credential.created", "credential.created", "credential.created", "credential.created",
		"credential.created", "credential.deleted"}, actions)
}

func TestClone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostID := b.host(t)
	key := newKey(t, "rsa2048", openSSHEncrypted, "", "pp")
	src := b.create(t, credential.CreateInput{Scope: credential.ScopeSystem, Name: "fleet", Description: "d", Username: "svc",
		AuthMethod: credential.AuthBoth, PrivateKey: key.PEM, PrivateKeyPassphrase: "pp", Password: "pw"})

	clone, err := b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeHost, ScopeID: &hostID})
	require.NoError(t, err)
	require.NotEqual(t, src.ID, clone.ID)
	require.Equal(t, credential.ScopeHost, clone.Scope)
	require.Equal(t, &hostID, clone.ScopeID)
	require.Equal(t, "fleet", clone.Name, "the name is kept unless given")
	require.Equal(t, "d", clone.Description)
	require.Equal(t, "svc", clone.Username)
	require.Equal(t, credential.AuthBoth, clone.AuthMethod)
	require.Equal(t, src.KeyType, clone.KeyType)
	require.Equal(t, src.KeyBits, clone.KeyBits)
	require.Equal(t, src.KeyFingerprint, clone.KeyFingerprint)
	require.False(t, clone.IsDefault)

	want, err := b.svc.Secret(b.ctx, src.ID)
	require.NoError(t, err)
	got, err := b.svc.Secret(b.ctx, clone.ID)
	require.NoError(t, err)
	require.Equal(t, want, got, "the clone holds the same secrets")

	// The clone's ciphertexts are its own, bound to its row.
	var srcKey, cloneKey []byte
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT private_key_sealed FROM ssh_credentials WHERE id = $1`, src.ID).Scan(&srcKey))
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT private_key_sealed FROM ssh_credentials WHERE id = $1`, clone.ID).Scan(&cloneKey))
	require.NotEqual(t, srcKey, cloneKey)

	res, err := b.svc.Resolve(b.ctx, hostID)
	require.NoError(t, err)
	require.Equal(t, clone.ID, res.Credential.ID)

	def, err := b.svc.Clone(b.ctx, b.actor, clone.ID, credential.CloneInput{Scope: credential.ScopeSystem, Name: ptr("fleet default"),
		IsDefault: true})
	require.NoError(t, err)
	require.Equal(t, "fleet default", def.Name)
	require.True(t, def.IsDefault)
	require.Nil(t, def.ScopeID)

	_, err = b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeHost, ScopeID: ptr(uuid.Must(uuid.NewV7()))})
	requireInvalid(t, err, "scope_id")
	_, err = b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeHost})
	requireInvalid(t, err, "scope_id")
	_, err = b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeHost, ScopeID: &hostID, IsDefault: true})
	requireInvalid(t, err, "is_default")
	_, err = b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeSystem, Name: ptr("")})
	requireInvalid(t, err, "name")
	_, err = b.svc.Clone(b.ctx, b.actor, uuid.Must(uuid.NewV7()), credential.CloneInput{Scope: credential.ScopeSystem})
	requireCode(t, err, apperr.CodeNotFound)
	require.NoError(t, b.svc.Delete(b.ctx, b.actor, src.ID))
	_, err = b.svc.Clone(b.ctx, b.actor, src.ID, credential.CloneInput{Scope: credential.ScopeSystem})
	requireCode(t, err, apperr.CodeNotFound)

	events := b.auditEvents(t)
	var cloned []auditEvent
	for _, e := range events {
		if e.Action == "credential.cloned" {
			cloned = append(cloned, e)
		}
	}
	require.Len(t, cloned, 2)
	require.Equal(t, clone.ID.String(), cloned[0].ResourceID)
	require.Contains(t, cloned[0].Detail, src.ID.String())
	require.Contains(t, cloned[0].Detail, *src.KeyFingerprint)
}
