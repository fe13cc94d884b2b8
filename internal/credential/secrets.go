package credential

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Secret is the decrypted material of a credential, for the SSH layer. It is never exposed
// by the API; its String, GoString, LogValue and MarshalJSON hide the secrets, so printing,
// logging or encoding one by mistake shows only the user name.
type Secret struct {
	// AuthMethod is the credential's auth method; with AuthCertificate there are no
	// secrets and the SSH layer mints a user certificate for Username.
	AuthMethod string
	Username   string
	Password   string
	PrivateKey []byte
	Passphrase string
}

// String implements fmt.Stringer without the secrets.
func (s Secret) String() string {
	return fmt.Sprintf("credential.Secret{Username:%q, redacted}", s.Username)
}

// GoString implements fmt.GoStringer without the secrets.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON implements json.Marshaler without the secrets.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
		Redacted bool   `json:"redacted"`
	}{s.Username, true})
}

// LogValue implements slog.LogValuer without the secrets.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", s.Username), slog.Bool("redacted", true))
}

// material is a credential's secrets in clear, with the description of its key; a nil
// field is absent.
type material struct {
	privateKey, passphrase, password []byte
	key                              keyInfo
}

// sealed is a credential's secrets sealed for one row, with the key's description.
type sealed struct {
	privateKey, passphrase, password []byte
	key                              *keyInfo
}

// updateSecrets applies the secrets of in to next (the row being updated, its auth method
// already changed), sealing new ones for its id, and returns the names of the secrets it
// changed.
func (s *Service) updateSecrets(next *dbq.SshCredential, in UpdateInput) ([]string, error) {
	key, passphrase, password := deref(in.PrivateKey), deref(in.PrivateKeyPassphrase), deref(in.Password)
	usesKey, usesPassword := usesSecrets(next.AuthMethod)
	if err := checkSecrets(next.AuthMethod, key, passphrase, password); err != nil {
		return nil, err
	}
	var changed []string
	switch {
	case usesKey && key != "":
		info, err := parseKey(key, passphrase)
		if err != nil {
			return nil, err
		}
		sv, err := s.seal(next.ID, material{privateKey: []byte(key), passphrase: optionalBytes(passphrase), key: info})
		if err != nil {
			return nil, err
		}
		next.PrivateKeySealed, next.PassphraseSealed = sv.privateKey, sv.passphrase
		setKeyInfo(next, sv.key)
		changed = append(changed, "private_key")
		if passphrase != "" {
			changed = append(changed, "private_key_passphrase")
		}
	case usesKey && passphrase != "":
		return nil, apperr.Invalid("private_key", "Send the private key again together with its new passphrase.")
	case usesKey && next.PrivateKeySealed == nil:
		return nil, missingSecret("private_key", next.AuthMethod)
	case !usesKey && next.PrivateKeySealed != nil:
		next.PrivateKeySealed, next.PassphraseSealed = nil, nil
		setKeyInfo(next, nil)
		changed = append(changed, "private_key")
	}
	switch {
	case usesPassword && password != "":
		sv, err := s.seal(next.ID, material{password: []byte(password)})
		if err != nil {
			return nil, err
		}
		next.PasswordSealed = sv.password
		changed = append(changed, "password")
	case usesPassword && next.PasswordSealed == nil:
		return nil, missingSecret("password", next.AuthMethod)
	case !usesPassword && next.PasswordSealed != nil:
		next.PasswordSealed = nil
		changed = append(changed, "password")
	}
	return changed, nil
}

// Secret returns the decrypted material of a live credential, for the SSH layer only:
// never send it to a client, log it or put it in an error. Errors: resource.not_found, and
// an internal error when a value does not open (another key file, or a ciphertext moved
// from another row).
func (s *Service) Secret(ctx context.Context, id uuid.UUID) (Secret, error) {
	row, err := s.q.CredentialGet(ctx, id)
	if err != nil {
		return Secret{}, pg.NotFoundAs(err, errNotFound())
	}
	m, err := s.open(row)
	if err != nil {
		return Secret{}, err
	}
	return Secret{AuthMethod: row.AuthMethod, Username: row.Username, Password: string(m.password), PrivateKey: m.privateKey,
		Passphrase: string(m.passphrase)}, nil
}

// seal seals m's secrets for row id.
func (s *Service) seal(id uuid.UUID, m material) (sealed, error) {
	var out sealed
	for _, v := range []struct {
		column seal.Column
		plain  []byte
		dst    *[]byte
	}{
		{privateKeyColumn, m.privateKey, &out.privateKey},
		{passphraseColumn, m.passphrase, &out.passphrase},
		{passwordColumn, m.password, &out.password},
	} {
		if v.plain == nil {
			continue
		}
		ct, err := s.sealer.Seal(v.plain, v.column.AD(id))
		if err != nil {
			return sealed{}, apperr.Internal(fmt.Errorf("seal credential %s: %w", v.column.Name, err))
		}
		*v.dst = ct
	}
	if m.privateKey != nil {
		key := m.key
		out.key = &key
	}
	return out, nil
}

// open opens the secrets of row.
func (s *Service) open(row dbq.SshCredential) (material, error) {
	var m material
	for _, v := range []struct {
		column seal.Column
		ct     []byte
		dst    *[]byte
	}{
		{privateKeyColumn, row.PrivateKeySealed, &m.privateKey},
		{passphraseColumn, row.PassphraseSealed, &m.passphrase},
		{passwordColumn, row.PasswordSealed, &m.password},
	} {
		if v.ct == nil {
			continue
		}
		plain, err := s.sealer.Open(v.ct, v.column.AD(row.ID))
		if err != nil {
			m.wipe()
			return material{}, apperr.Internal(fmt.Errorf("open credential %s: %w", row.ID, err))
		}
		*v.dst = plain
	}
	return m, nil
}

// wipe overwrites the plaintext m holds.
func (m material) wipe() {
	clear(m.privateKey)
	clear(m.passphrase)
	clear(m.password)
}

// newMaterial checks the secrets of a new credential against its auth method and parses
// its private key.
func newMaterial(method, key, passphrase, password string) (material, error) {
	if err := checkSecrets(method, key, passphrase, password); err != nil {
		return material{}, err
	}
	usesKey, usesPassword := usesSecrets(method)
	var m material
	if usesKey {
		if key == "" {
			return material{}, missingSecret("private_key", method)
		}
		info, err := parseKey(key, passphrase)
		if err != nil {
			return material{}, err
		}
		m.privateKey, m.passphrase, m.key = []byte(key), optionalBytes(passphrase), info
	}
	if usesPassword {
		if password == "" {
			return material{}, missingSecret("password", method)
		}
		m.password = []byte(password)
	}
	return m, nil
}

// parseKey bounds and parses a private key.
func parseKey(key, passphrase string) (keyInfo, error) {
	if len(key) > maxPrivateKeyLen {
		return keyInfo{}, apperr.Invalid("private_key", fmt.Sprintf("The private key is longer than %d bytes.", maxPrivateKeyLen))
	}
	return parsePrivateKey([]byte(key), []byte(passphrase))
}

// usesSecrets reports which secrets an auth method uses.
func usesSecrets(method string) (key, password bool) {
	return method == AuthSSHKey || method == AuthBoth, method == AuthPassword || method == AuthBoth
}

func optionalBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
