package credential

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/seal"
)

// The scopes of a credential.
const (
	ScopeSystem = "system"
	ScopeHost   = "host"
)

// The auth methods of a credential.
const (
	AuthSSHKey   = "ssh_key"
	AuthPassword = "password"
	AuthBoth     = "both"
)

// The sources of a Resolution.
const (
	SourceHost          = "host"
	SourceSystemDefault = "system_default"
)

// Limits on what a credential holds.
const (
	maxNameLen        = 256
	maxUsernameLen    = 256
	maxDescriptionLen = 1024
	// maxPrivateKeyLen fits a PEM RSA key of 16384 bits with room to spare.
	maxPrivateKeyLen = 64 << 10
	maxSecretLen     = 4096
)

// Where secrets are stored: the table and its sealed columns, which with the row id form
// each value's associated data.
const (
	table            = "ssh_credentials"
	columnPrivateKey = "private_key_sealed"
	columnPassphrase = "passphrase_sealed"
	columnPassword   = "password_sealed"
)

// Sealer encrypts secrets at rest; *seal.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, ad seal.AD) ([]byte, error)
	Open(sealed []byte, ad seal.AD) ([]byte, error)
}

// Service manages SSH credentials.
type Service struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	sealer Sealer
	audit  *audit.Writer
	now    func() time.Time
}

// NewService returns the credential service. now stamps created_at, updated_at and
// deleted_at (nil means time.Now).
func NewService(pool *pgxpool.Pool, sealer Sealer, aw *audit.Writer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), sealer: sealer, audit: aw, now: now}
}

// CreateInput describes a new credential. Empty secret strings mean "not given".
type CreateInput struct {
	Scope       string
	ScopeID     *uuid.UUID
	Name        string
	Description string
	Username    string
	AuthMethod  string
	// Password is required for auth methods password and both.
	Password string
	// PrivateKey (PEM) is required for ssh_key and both; PrivateKeyPassphrase decrypts it
	// when it is encrypted.
	PrivateKey           string
	PrivateKeyPassphrase string
	// IsDefault makes a system credential the default, taking the flag from the old one.
	IsDefault bool
}

// UpdateInput changes a credential; nil fields are left alone, and so are secrets given as
// "". A new PrivateKey replaces the key and its passphrase (PrivateKeyPassphrase, or none).
type UpdateInput struct {
	Name, Description, Username, AuthMethod    *string
	Password, PrivateKey, PrivateKeyPassphrase *string
	IsDefault                                  *bool
}

// CloneInput names where a clone goes. Name nil keeps the source's name.
type CloneInput struct {
	Scope     string
	ScopeID   *uuid.UUID
	Name      *string
	IsDefault bool
}

// Credential is a credential without its secrets. The key fields are nil when it holds no
// private key.
type Credential struct {
	ID          uuid.UUID
	Scope       string
	ScopeID     *uuid.UUID
	Name        string
	Description string
	Username    string
	AuthMethod  string
	// KeyType is ed25519, rsa or ecdsa; KeyBits the RSA modulus size, the ECDSA curve size
	// or 256 for Ed25519; KeyFingerprint "SHA256:..." as ssh-keygen -l prints it;
	// KeyComment the OpenSSH key comment ("" when it has none or is encrypted).
	KeyType        *string
	KeyBits        *int
	KeyFingerprint *string
	KeyComment     *string
	IsDefault      bool
	IsActive       bool
	// CreatedBy is the id of the user or service account that created it ("" for the
	// system).
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Resolution is the effective credential of a host and why it applies.
type Resolution struct {
	Credential Credential
	// Source is SourceHost or SourceSystemDefault.
	Source string
	// Reason says in a sentence why this credential applies.
	Reason string
}

// Secret is the decrypted material of a credential, for the SSH layer. It is never exposed
// by the API; its String, GoString, LogValue and MarshalJSON hide the secrets, so printing,
// logging or encoding one by mistake shows only the user name.
type Secret struct {
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

func errNotFound() error { return apperr.NotFound("The credential does not exist.") }

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

// Create adds a credential. Guarded by credential:write. Errors: validation_failed (scope,
// scope_id naming no live host, a missing or unusable secret, a private key that does not
// parse, a wrong passphrase), resource.conflict (a racing second system default).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (Credential, error) {
	if err := checkScope(in.Scope, in.ScopeID, in.IsDefault); err != nil {
		return Credential{}, err
	}
	if err := checkFields(&in.Name, &in.Description, &in.Username, &in.AuthMethod); err != nil {
		return Credential{}, err
	}
	m, err := newMaterial(in.AuthMethod, in.PrivateKey, in.PrivateKeyPassphrase, in.Password)
	if err != nil {
		return Credential{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Credential{}, apperr.Internal(err)
	}
	sv, err := s.seal(id, m)
	if err != nil {
		return Credential{}, err
	}
	var row dbq.SshCredential
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := checkHost(ctx, q, in.ScopeID); err != nil {
			return err
		}
		now := s.now()
		if in.IsDefault {
			if _, err := q.CredentialClearDefault(ctx, dbq.CredentialClearDefaultParams{Now: now, Keep: id}); err != nil {
				return pg.Translate(err)
			}
		}
		row, err = q.CredentialInsert(ctx, insertParams(id, in.Scope, in.ScopeID, in.Name, in.Description, in.Username,
			in.AuthMethod, sv, in.IsDefault, actor.Actor().String(), now))
		if err != nil {
			return writeErr(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionCredentialCreated, "credential", id.String(),
			auditDetail(row, nil)))
	})
	if err != nil {
		return Credential{}, err
	}
	return toCredential(row), nil
}

// List returns live credentials in creation order, a page at a time. Guarded by
// credential:read. Errors: validation_failed (a bad cursor).
func (s *Service) List(ctx context.Context, limit *int, after *string) ([]Credential, *string, error) {
	afterID, err := cursor.AfterID(after)
	if err != nil {
		return nil, nil, err
	}
	n := cursor.Limit(limit)
	rows, err := s.q.CredentialList(ctx, dbq.CredentialListParams{After: afterID, RowLimit: int32(n + 1)})
	if err != nil {
		return nil, nil, pg.Translate(err)
	}
	rows, next := cursor.Trim(rows, n, func(r dbq.SshCredential) any { return r.ID })
	items := make([]Credential, len(rows))
	for i, r := range rows {
		items[i] = toCredential(r)
	}
	return items, next, nil
}

// Get returns a live credential. Guarded by credential:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Credential, error) {
	row, err := s.q.CredentialGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, errNotFound()
	}
	if err != nil {
		return Credential{}, pg.Translate(err)
	}
	return toCredential(row), nil
}

// Update changes a live credential. Switching the auth method needs the secrets the new
// method uses (unless the credential already holds them) and drops the others. Guarded by
// credential:write. Errors: resource.not_found, validation_failed, resource.conflict (a
// racing second system default).
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in UpdateInput) (Credential, error) {
	var row dbq.SshCredential
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.CredentialGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound()
		}
		if err != nil {
			return pg.Translate(err)
		}
		next := cur
		var changed []string
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed = append(changed, field)
			}
		}
		set("name", &next.Name, in.Name)
		set("description", &next.Description, in.Description)
		set("username", &next.Username, in.Username)
		set("auth_method", &next.AuthMethod, in.AuthMethod)
		if err := checkFields(&next.Name, &next.Description, &next.Username, &next.AuthMethod); err != nil {
			return err
		}
		secretChanges, err := s.updateSecrets(&next, in)
		if err != nil {
			return err
		}
		changed = append(changed, secretChanges...)
		if in.IsDefault != nil {
			if *in.IsDefault && next.Scope != ScopeSystem {
				return errDefaultScope()
			}
			if *in.IsDefault != next.IsDefault {
				next.IsDefault = *in.IsDefault
				changed = append(changed, "is_default")
			}
		}
		now := s.now()
		if next.IsDefault && !cur.IsDefault {
			if _, err := q.CredentialClearDefault(ctx, dbq.CredentialClearDefaultParams{Now: now, Keep: id}); err != nil {
				return pg.Translate(err)
			}
		}
		row, err = q.CredentialUpdate(ctx, dbq.CredentialUpdateParams{
			ID: id, Name: next.Name, Description: next.Description, Username: next.Username,
			AuthMethod: next.AuthMethod, PrivateKeySealed: next.PrivateKeySealed,
			PassphraseSealed: next.PassphraseSealed, PasswordSealed: next.PasswordSealed,
			SshKeyType: next.SshKeyType, SshKeyBits: next.SshKeyBits,
			SshKeyFingerprint: next.SshKeyFingerprint, SshKeyComment: next.SshKeyComment,
			IsDefault: next.IsDefault, Now: now,
		})
		if err != nil {
			return writeErr(err)
		}
		if changed == nil {
			changed = []string{}
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionCredentialUpdated, "credential", id.String(),
			auditDetail(row, map[string]any{"changed": changed})))
	})
	if err != nil {
		return Credential{}, err
	}
	return toCredential(row), nil
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

// Delete soft-deletes a live credential: it leaves lists, gets and resolution, and stops
// being active. Guarded by credential:delete. Errors: resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.CredentialGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound()
		}
		if err != nil {
			return pg.Translate(err)
		}
		if _, err := q.CredentialSoftDelete(ctx, dbq.CredentialSoftDeleteParams{ID: id, Now: s.now()}); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionCredentialDeleted, "credential", id.String(),
			auditDetail(cur, nil)))
	})
}

// Clone copies a live credential to a new scope under a new id: its user name, auth
// method, description and secrets, which are re-sealed for the new row inside the server.
// Guarded by credential:write. Errors: resource.not_found (the source), validation_failed
// (scope, scope_id, name), resource.conflict (a racing second system default).
func (s *Service) Clone(ctx context.Context, actor *authz.Principal, id uuid.UUID, in CloneInput) (Credential, error) {
	if err := checkScope(in.Scope, in.ScopeID, in.IsDefault); err != nil {
		return Credential{}, err
	}
	if in.Name != nil {
		if err := checkText("name", *in.Name, 1, maxNameLen); err != nil {
			return Credential{}, err
		}
	}
	newID, err := uuid.NewV7()
	if err != nil {
		return Credential{}, apperr.Internal(err)
	}
	var row dbq.SshCredential
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		src, err := q.CredentialGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound()
		}
		if err != nil {
			return pg.Translate(err)
		}
		if err := checkHost(ctx, q, in.ScopeID); err != nil {
			return err
		}
		m, err := s.open(src)
		if err != nil {
			return err
		}
		defer m.wipe()
		if src.PrivateKeySealed != nil {
			m.key = keyInfo{Type: deref(src.SshKeyType), Bits: int(deref(src.SshKeyBits)),
				Fingerprint: deref(src.SshKeyFingerprint), Comment: deref(src.SshKeyComment)}
		}
		sv, err := s.seal(newID, m)
		if err != nil {
			return err
		}
		name := src.Name
		if in.Name != nil {
			name = *in.Name
		}
		now := s.now()
		if in.IsDefault {
			if _, err := q.CredentialClearDefault(ctx, dbq.CredentialClearDefaultParams{Now: now, Keep: newID}); err != nil {
				return pg.Translate(err)
			}
		}
		row, err = q.CredentialInsert(ctx, insertParams(newID, in.Scope, in.ScopeID, name, src.Description, src.Username,
			src.AuthMethod, sv, in.IsDefault, actor.Actor().String(), now))
		if err != nil {
			return writeErr(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionCredentialCloned, "credential", newID.String(),
			auditDetail(row, map[string]any{"source_credential_id": id.String()})))
	})
	if err != nil {
		return Credential{}, err
	}
	return toCredential(row), nil
}

// Resolve returns the credential SSH uses for a live host: its newest active, live
// host-scoped credential, else the active system default. Guarded by credential:read.
// Errors: resource.not_found when the host does not exist (or is deleted) and when no
// credential applies.
func (s *Service) Resolve(ctx context.Context, hostID uuid.UUID) (Resolution, error) {
	live, err := s.q.CredentialHostExists(ctx, hostID)
	if err != nil {
		return Resolution{}, pg.Translate(err)
	}
	if !live {
		return Resolution{}, apperr.NotFound("The host does not exist.")
	}
	row, err := s.q.CredentialResolveHost(ctx, hostID)
	if err == nil {
		return Resolution{Credential: toCredential(row), Source: SourceHost,
			Reason: "The host has an active credential of its own; the newest one applies."}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Resolution{}, pg.Translate(err)
	}
	row, err = s.q.CredentialSystemDefault(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resolution{}, apperr.NotFound(
			"No credential applies to the host: it has no active credential of its own and there is no active system default.")
	}
	if err != nil {
		return Resolution{}, pg.Translate(err)
	}
	return Resolution{Credential: toCredential(row), Source: SourceSystemDefault,
		Reason: "The host has no active credential of its own; the system default applies."}, nil
}

// Secret returns the decrypted material of a live credential, for the SSH layer only:
// never send it to a client, log it or put it in an error. Errors: resource.not_found, and
// an internal error when a value does not open (another key file, or a ciphertext moved
// from another row).
func (s *Service) Secret(ctx context.Context, id uuid.UUID) (Secret, error) {
	row, err := s.q.CredentialGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Secret{}, errNotFound()
	}
	if err != nil {
		return Secret{}, pg.Translate(err)
	}
	m, err := s.open(row)
	if err != nil {
		return Secret{}, err
	}
	return Secret{Username: row.Username, Password: string(m.password), PrivateKey: m.privateKey,
		Passphrase: string(m.passphrase)}, nil
}

// seal seals m's secrets for row id.
func (s *Service) seal(id uuid.UUID, m material) (sealed, error) {
	var out sealed
	for _, v := range []struct {
		column string
		plain  []byte
		dst    *[]byte
	}{
		{columnPrivateKey, m.privateKey, &out.privateKey},
		{columnPassphrase, m.passphrase, &out.passphrase},
		{columnPassword, m.password, &out.password},
	} {
		if v.plain == nil {
			continue
		}
		ct, err := s.sealer.Seal(v.plain, sealAD(id, v.column))
		if err != nil {
			return sealed{}, apperr.Internal(fmt.Errorf("seal credential %s: %w", v.column, err))
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
		column string
		ct     []byte
		dst    *[]byte
	}{
		{columnPrivateKey, row.PrivateKeySealed, &m.privateKey},
		{columnPassphrase, row.PassphraseSealed, &m.passphrase},
		{columnPassword, row.PasswordSealed, &m.password},
	} {
		if v.ct == nil {
			continue
		}
		plain, err := s.sealer.Open(v.ct, sealAD(row.ID, v.column))
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

// sealAD is the associated data of column of credential id.
func sealAD(id uuid.UUID, column string) seal.AD {
	return seal.AD{Table: table, Column: column, RowID: id.String()}
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

// checkSecrets refuses secrets the auth method does not use, and oversized ones.
func checkSecrets(method, key, passphrase, password string) error {
	usesKey, usesPassword := usesSecrets(method)
	if !usesKey && key != "" {
		return apperr.Invalid("private_key", fmt.Sprintf("Auth method %s takes no private_key.", method))
	}
	if !usesKey && passphrase != "" {
		return apperr.Invalid("private_key_passphrase", fmt.Sprintf("Auth method %s takes no private_key_passphrase.", method))
	}
	if !usesPassword && password != "" {
		return apperr.Invalid("password", fmt.Sprintf("Auth method %s takes no password.", method))
	}
	if len(passphrase) > maxSecretLen {
		return apperr.Invalid("private_key_passphrase", fmt.Sprintf("The passphrase is longer than %d bytes.", maxSecretLen))
	}
	if len(password) > maxSecretLen {
		return apperr.Invalid("password", fmt.Sprintf("The password is longer than %d bytes.", maxSecretLen))
	}
	return nil
}

func missingSecret(field, method string) error {
	return apperr.Invalid(field, fmt.Sprintf("Auth method %s needs a %s.", method, field))
}

func errDefaultScope() error {
	return apperr.Invalid("is_default", "Only a system credential can be the default.")
}

// checkScope checks a scope, its scope_id and the default flag, without the database.
func checkScope(scope string, scopeID *uuid.UUID, isDefault bool) error {
	switch scope {
	case ScopeSystem:
		if scopeID != nil {
			return apperr.Invalid("scope_id", "A system credential takes no scope_id.")
		}
	case ScopeHost:
		if scopeID == nil {
			return apperr.Invalid("scope_id", "A host credential needs the scope_id of its host.")
		}
		if isDefault {
			return errDefaultScope()
		}
	default:
		return apperr.Invalid("scope", "The scope must be system or host.")
	}
	return nil
}

// checkHost checks that scopeID, when set, names a live host, and locks it against
// deletion until the transaction ends.
func checkHost(ctx context.Context, q *dbq.Queries, scopeID *uuid.UUID) error {
	if scopeID == nil {
		return nil
	}
	live, err := q.CredentialHostLive(ctx, *scopeID)
	if err != nil {
		return pg.Translate(err)
	}
	if !live {
		return apperr.Invalid("scope_id", "The scope_id names no host.")
	}
	return nil
}

// checkFields checks the clear-text fields of a credential.
func checkFields(name, description, username, method *string) error {
	if err := checkText("name", *name, 1, maxNameLen); err != nil {
		return err
	}
	if err := checkText("description", *description, 0, maxDescriptionLen); err != nil {
		return err
	}
	if err := checkText("username", *username, 1, maxUsernameLen); err != nil {
		return err
	}
	switch *method {
	case AuthSSHKey, AuthPassword, AuthBoth:
		return nil
	}
	return apperr.Invalid("auth_method", "The auth_method must be ssh_key, password or both.")
}

// checkText checks that v is text PostgreSQL stores (UTF-8 without NUL) of min to max
// characters, not only blanks when it is required.
func checkText(field, v string, minLen, maxLen int) error {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return apperr.Invalid(field, fmt.Sprintf("The %s must be UTF-8 text without NUL characters.", field))
	}
	if minLen > 0 && strings.TrimSpace(v) == "" {
		return apperr.Invalid(field, fmt.Sprintf("The %s is required.", field))
	}
	if n := utf8.RuneCountInString(v); n < minLen || n > maxLen {
		return apperr.Invalid(field, fmt.Sprintf("The %s must be %d to %d characters long.", field, minLen, maxLen))
	}
	return nil
}

// writeErr translates an error of inserting or updating a credential: the only unique
// index it can hit is the one allowing a single live system default.
func writeErr(err error) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return &apperr.Error{
			Code:    apperr.CodeConflict,
			Message: "Another system credential became the default at the same time; try again.",
			Detail:  map[string]any{"field": "is_default"},
			Err:     err,
		}
	}
	return err
}

// insertParams builds the insert of a credential.
func insertParams(id uuid.UUID, scope string, scopeID *uuid.UUID, name, description, username, method string,
	sv sealed, isDefault bool, createdBy string, now time.Time) dbq.CredentialInsertParams {
	p := dbq.CredentialInsertParams{
		ID: id, Scope: scope, ScopeID: scopeID, Name: name, Description: description, Username: username,
		AuthMethod: method, PrivateKeySealed: sv.privateKey, PassphraseSealed: sv.passphrase,
		PasswordSealed: sv.password, IsDefault: isDefault, CreatedBy: createdBy, Now: now,
	}
	if sv.key != nil {
		bits := int32(sv.key.Bits)
		p.SshKeyType, p.SshKeyBits = &sv.key.Type, &bits
		p.SshKeyFingerprint, p.SshKeyComment = &sv.key.Fingerprint, &sv.key.Comment
	}
	return p
}

// setKeyInfo sets the key columns of row from info (nil: no key).
func setKeyInfo(row *dbq.SshCredential, info *keyInfo) {
	if info == nil {
		row.SshKeyType, row.SshKeyBits, row.SshKeyFingerprint, row.SshKeyComment = nil, nil, nil, nil
		return
	}
	bits := int32(info.Bits)
	row.SshKeyType, row.SshKeyBits = &info.Type, &bits
	row.SshKeyFingerprint, row.SshKeyComment = &info.Fingerprint, &info.Comment
}

// auditDetail is the audit detail of a change to row: what identifies it, never a secret.
func auditDetail(row dbq.SshCredential, extra map[string]any) map[string]any {
	d := map[string]any{
		"name":        row.Name,
		"scope":       row.Scope,
		"auth_method": row.AuthMethod,
		"is_default":  row.IsDefault,
	}
	if row.ScopeID != nil {
		d["scope_id"] = row.ScopeID.String()
	}
	if row.SshKeyFingerprint != nil {
		d["ssh_key_fingerprint"] = *row.SshKeyFingerprint
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// toCredential drops the secrets of row.
func toCredential(row dbq.SshCredential) Credential {
	c := Credential{
		ID: row.ID, Scope: row.Scope, ScopeID: row.ScopeID, Name: row.Name, Description: row.Description,
		Username: row.Username, AuthMethod: row.AuthMethod, KeyType: row.SshKeyType,
		KeyFingerprint: row.SshKeyFingerprint, KeyComment: row.SshKeyComment,
		IsDefault: row.IsDefault, IsActive: row.IsActive, CreatedBy: row.CreatedBy,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}
	if row.SshKeyBits != nil {
		bits := int(*row.SshKeyBits)
		c.KeyBits = &bits
	}
	return c
}

func optionalBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
