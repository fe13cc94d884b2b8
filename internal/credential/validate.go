package credential

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
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
	case AuthSSHKey, AuthPassword, AuthBoth, AuthCertificate:
		return nil
	}
	return apperr.Invalid("auth_method", "The auth_method must be ssh_key, password, both or certificate.")
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
