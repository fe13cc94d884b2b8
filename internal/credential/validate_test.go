package credential_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/cursor"
)

func TestCreateInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	deletedHost := b.host(t)
	b.deleteHost(t, deletedHost)
	liveHost := b.host(t)
	plain := newKey(t, "ed25519", openSSH, "", "")
	encrypted := newKey(t, "ed25519", openSSHEncrypted, "", "right")
	rsaKey := newKey(t, "rsa2048", legacyPEM, "", "")

	for name, tc := range map[string]struct {
		in    func(*credential.CreateInput)
		field string
	}{
		"createWrongPassphrase400": {func(in *credential.CreateInput) {
			in.PrivateKey, in.PrivateKeyPassphrase = encrypted.PEM, "wrong"
		}, "private_key_passphrase"},
		"createMissingPassphrase400":     {func(in *credential.CreateInput) { in.PrivateKey = encrypted.PEM }, "private_key_passphrase"},
		"createPassphraseForPlainKey400": {func(in *credential.CreateInput) { in.PrivateKeyPassphrase = "unused" }, "private_key_passphrase"},
		"createGarbageKey400":            {func(in *credential.CreateInput) { in.PrivateKey = "not a key at all" }, "private_key"},
		"createTruncatedKey400": {func(in *credential.CreateInput) {
			in.PrivateKey = plain.PEM[:len(plain.PEM)/2] + "\n-----END OPENSSH PRIVATE KEY-----\n"
		}, "private_key"},
		"createCorruptPKCS1400": {func(in *credential.CreateInput) {
			in.PrivateKey = strings.Replace(rsaKey.PEM, "MII", "MIA", 1)
		}, "private_key"},
		"createPublicKeyAsPrivate400": {func(in *credential.CreateInput) {
			in.PrivateKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMxzTqDxfKh8Ph+Zqd5wYF5p0t2m7tBdD9v6mrxRbJm9 me@example"
		}, "private_key"},
		"createOversizedKey400": {func(in *credential.CreateInput) {
			in.PrivateKey = strings.Repeat("A", 70000)
		}, "private_key"},
		"createSSHKeyWithoutKey400": {func(in *credential.CreateInput) { in.PrivateKey = "" }, "private_key"},
		"createPasswordWithoutPassword400": {func(in *credential.CreateInput) {
			in.AuthMethod, in.PrivateKey = credential.AuthPassword, ""
		}, "password"},
		"createBothWithoutPassword400": {func(in *credential.CreateInput) { in.AuthMethod = credential.AuthBoth }, "password"},
		"createBothWithoutKey400": {func(in *credential.CreateInput) {
			in.AuthMethod, in.PrivateKey, in.Password = credential.AuthBoth, "", "pw"
		}, "private_key"},
		"createPasswordWithKey400": {func(in *credential.CreateInput) {
			in.AuthMethod, in.Password = credential.AuthPassword, "pw"
		}, "private_key"},
		"createSSHKeyWithPassword400": {func(in *credential.CreateInput) { in.Password = "pw" }, "password"},
		"createUnknownAuthMethod400":  {func(in *credential.CreateInput) { in.AuthMethod = "kerberos" }, "auth_method"},
		"createUnknownScope400":       {func(in *credential.CreateInput) { in.Scope = "group" }, "scope"},
		"createHostWithoutScopeID400": {func(in *credential.CreateInput) { in.Scope = credential.ScopeHost }, "scope_id"},
		"createMissingHost400": {func(in *credential.CreateInput) {
			in.Scope, in.ScopeID = credential.ScopeHost, ptr(uuid.Must(uuid.NewV7()))
		}, "scope_id"},
		"createDeletedHost400": {func(in *credential.CreateInput) {
			in.Scope, in.ScopeID = credential.ScopeHost, &deletedHost
		}, "scope_id"},
		"createSystemWithScopeID400": {func(in *credential.CreateInput) { in.ScopeID = &liveHost }, "scope_id"},
		"createHostDefault400": {func(in *credential.CreateInput) {
			in.Scope, in.ScopeID, in.IsDefault = credential.ScopeHost, &liveHost, true
		}, "is_default"},
		"createEmptyName400":     {func(in *credential.CreateInput) { in.Name = "" }, "name"},
		"createBlankName400":     {func(in *credential.CreateInput) { in.Name = "   " }, "name"},
		"createLongName400":      {func(in *credential.CreateInput) { in.Name = strings.Repeat("n", 257) }, "name"},
		"createNULName400":       {func(in *credential.CreateInput) { in.Name = "a\x00b" }, "name"},
		"createEmptyUsername400": {func(in *credential.CreateInput) { in.Username = "" }, "username"},
		"createLongDescription400": {func(in *credential.CreateInput) {
			in.Description = strings.Repeat("d", 1025)
		}, "description"},
		"createOversizedPassword400": {func(in *credential.CreateInput) {
			in.AuthMethod, in.PrivateKey, in.Password = credential.AuthPassword, "", strings.Repeat("p", 4097)
		}, "password"},
	} {
		t.Run(name, func(t *testing.T) {
			in := credential.CreateInput{Scope: credential.ScopeSystem, Name: "n", Username: "root",
				AuthMethod: credential.AuthSSHKey, PrivateKey: plain.PEM}
			tc.in(&in)
			_, err := b.svc.Create(b.ctx, b.actor, in)
			requireInvalid(t, err, tc.field)
		})
	}
	page, err := b.svc.List(b.ctx, cursor.First(cursor.ByID{}, 50))
	require.NoError(t, err)
	require.Empty(t, page.Items, "nothing was stored")
	require.Empty(t, b.auditEvents(t), "nothing was audited")
}
