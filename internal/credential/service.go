package credential

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
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
	// AuthCertificate logs in with a short-lived user certificate the user CA mints per
	// connection for the username; the credential stores no secrets.
	AuthCertificate = "certificate"
)

// The sources of a Resolution.
const (
	SourceHost          = "host"
	SourceSystemDefault = "system_default"
)

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

func errNotFound() error { return apperr.NotFound("The credential does not exist.") }

// Create adds a credential. Guarded by credential:write. Errors: validation_failed (scope,
// scope_id naming no live host, a missing or unusable secret, a private key that does not
// parse, a wrong passphrase), resource.conflict (a racing second system default).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (Credential, error) {
	var out Credential
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.CreateTx(ctx, tx, actor, in)
		return err
	})
	return out, err
}

// CreateTx is Create inside the caller's transaction, with its audit event (enrollment
// creates an enrolled host's certificate credential with the host).
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, in CreateInput) (Credential, error) {
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
	q := dbq.New(tx)
	if err := checkHost(ctx, q, in.ScopeID); err != nil {
		return Credential{}, err
	}
	now := s.now()
	if in.IsDefault {
		if _, err := q.CredentialClearDefault(ctx, dbq.CredentialClearDefaultParams{Now: now, Keep: id}); err != nil {
			return Credential{}, pg.Translate(err)
		}
	}
	row, err := q.CredentialInsert(ctx, insertParams(id, in.Scope, in.ScopeID, in.Name, in.Description, in.Username,
		in.AuthMethod, sv, in.IsDefault, actor.Actor().String(), now))
	if err != nil {
		return Credential{}, writeErr(err)
	}
	if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionCredentialCreated, "credential", id.String(),
		auditDetail(row, nil))); err != nil {
		return Credential{}, err
	}
	return toCredential(row), nil
}

// List returns a page of live credentials in creation order. Guarded by credential:read.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[Credential], error) {
	rows, err := s.q.CredentialList(ctx, dbq.CredentialListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Credential]{}, pg.Translate(err)
	}
	return cursor.Map(cursor.Cut(page, rows, func(r dbq.SshCredential) uuid.UUID { return r.ID }), toCredential), nil
}

// Get returns a live credential. Guarded by credential:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Credential, error) {
	row, err := s.q.CredentialGet(ctx, id)
	if err != nil {
		return Credential{}, pg.NotFoundAs(err, errNotFound())
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
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
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

// Delete soft-deletes a live credential: it leaves lists, gets and resolution, and stops
// being active. Guarded by credential:delete. Errors: resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.CredentialGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
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
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
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
	if err = pg.IgnoreNotFound(err); err != nil {
		return Resolution{}, err
	}
	row, err = s.q.CredentialSystemDefault(ctx)
	if err != nil {
		return Resolution{}, pg.NotFoundAs(err, apperr.NotFound(
			"No credential applies to the host: it has no active credential of its own and there is no active system default."))
	}
	return Resolution{Credential: toCredential(row), Source: SourceSystemDefault,
		Reason: "The host has no active credential of its own; the system default applies."}, nil
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

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
