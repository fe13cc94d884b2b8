package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

const (
	// LoginTTL bounds the time between the start of a sign-in and its callback.
	LoginTTL = 10 * time.Minute
	// HandoffTTL is the life of a handoff code.
	HandoffTTL = 60 * time.Second
)

// refusal is a sign-in failure whose message the user may read; its cause is logged.
type refusal struct {
	msg   string
	cause error
}

func (r *refusal) Error() string {
	if r.cause != nil {
		return r.msg + ": " + r.cause.Error()
	}
	return r.msg
}

func (r *refusal) Unwrap() error { return r.cause }

func refuse(msg string, cause error) error { return &refusal{msg: msg, cause: cause} }

// Readable returns the sentence a browser may be shown for a sign-in failure: the
// refusal's own, or a generic one for anything else (never internals).
func Readable(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.msg
	}
	return "The single sign-on could not be completed; try again or ask an administrator."
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func digest(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// pkceVerifier derives a login's PKCE verifier from its stored key and its state (43
// characters of the base64url alphabet, as RFC 7636 asks).
func pkceVerifier(key []byte, state string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(state))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Start is the beginning of a sign-in: where to send the browser, and the state to bind to
// it in the openwatch_sso cookie.
type Start struct {
	RedirectURL string
	State       string
}

// StartLogin begins a sign-in through provider id; origin ("https://host:port") names this
// server when no public URL is configured. Anonymous.
// Errors: refusals (Readable) for a provider that is unknown, disabled or unreachable, and
// past the limit of sign-ins an address may start.
func (s *Service) StartLogin(ctx context.Context, id uuid.UUID, origin string) (Start, error) {
	if ok, _ := s.starts.Allow(reqinfo.From(ctx).ClientAddr); !ok {
		return Start{}, refuse("Too many sign-ins were started from this address; try again in a minute.", nil)
	}
	row, err := s.q.SSOProviderGet(ctx, id)
	if err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return Start{}, err
		}
		return Start{}, refuse("This single sign-on provider does not exist.", nil)
	}
	if !row.Enabled {
		return Start{}, refuse("This single sign-on provider is disabled.", nil)
	}
	op, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return Start{}, refuse("The identity provider could not be reached; try again later.", err)
	}
	state, err := random(32)
	if err != nil {
		return Start{}, apperr.Internal(err)
	}
	nonce, err := random(32)
	if err != nil {
		return Start{}, apperr.Internal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return Start{}, apperr.Internal(err)
	}
	base := strings.TrimSuffix(s.opts.PublicURL, "/")
	if base == "" {
		base = origin
	}
	redirect := base + CallbackPath(id)
	loginID, err := uuid.NewV7()
	if err != nil {
		return Start{}, apperr.Internal(err)
	}
	now := s.opts.Now()
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := q.SSOExpiredDelete(ctx, now); err != nil {
			return pg.Translate(err)
		}
		return pg.Translate(q.SSOLoginInsert(ctx, dbq.SSOLoginInsertParams{
			ID: loginID, ProviderID: id, StateHash: digest(state), NonceHash: digest(nonce), PkceKey: key,
			RedirectUri: redirect, ExpiresAt: now.Add(LoginTTL),
		}))
	})
	if err != nil {
		return Start{}, err
	}
	conf := oauth2.Config{ClientID: row.ClientID, Endpoint: op.Endpoint(), RedirectURL: redirect, Scopes: row.Scopes}
	return Start{State: state,
		RedirectURL: conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkceVerifier(key, state)))}, nil
}

// Callback is what the identity provider sent back to the redirect URI.
type Callback struct {
	Code, State, Error, ErrorDescription string
	// BoundState is the openwatch_sso cookie of the browser.
	BoundState string
}

// identity is what a verified ID token says of the user.
type identity struct {
	subject  string
	username string
	email    string
	groups   []string
}

// Complete finishes a sign-in at the redirect URI of provider id and returns a handoff
// code for the web app. Anonymous.
// Errors: refusals (Readable) for every failure a user can cause or see.
func (s *Service) Complete(ctx context.Context, id uuid.UUID, cb Callback) (string, error) {
	code, err := s.complete(ctx, id, cb)
	var r *refusal
	switch {
	case err == nil:
	case errors.As(err, &r):
		s.opts.Logger.WarnContext(ctx, "single sign-on refused", slog.String("provider_id", id.String()), slog.Any("error", err))
		s.recordRefusal(ctx, id, r.msg)
	default:
		s.opts.Logger.ErrorContext(ctx, "single sign-on failed", slog.String("provider_id", id.String()), slog.Any("error", err))
	}
	return code, err
}

func (s *Service) recordRefusal(ctx context.Context, id uuid.UUID, reason string) {
	ev := audit.For(ctx, nil, audit.ActionSSOLoginRefused, "sso_provider", id.String(), map[string]any{"reason": reason})
	if err := s.aw.AppendAlone(ctx, ev); err != nil {
		s.opts.Logger.ErrorContext(ctx, "record audit event", slog.Any("error", err))
	}
}

func (s *Service) complete(ctx context.Context, id uuid.UUID, cb Callback) (string, error) {
	if cb.State == "" {
		return "", refuse("The identity provider's answer has no state; start the sign-in again.", nil)
	}
	// The login in flight is consumed first, whatever follows: a state works once.
	login, err := s.q.SSOLoginTake(ctx, digest(cb.State))
	if err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return "", err
		}
		return "", refuse("This sign-in is unknown or was already completed; start it again.", nil)
	}
	switch {
	case login.ProviderID != id:
		return "", refuse("This sign-in was started with another provider; start it again.", nil)
	case !s.opts.Now().Before(login.ExpiresAt):
		return "", refuse("This sign-in took too long and expired; start it again.", nil)
	case subtle.ConstantTimeCompare([]byte(cb.BoundState), []byte(cb.State)) != 1:
		return "", refuse("This sign-in was started in another browser; start it again here.", nil)
	case cb.Error != "":
		msg := "The identity provider refused the sign-in (" + clip(cb.Error, 100)
		if cb.ErrorDescription != "" {
			msg += ": " + clip(cb.ErrorDescription, 200)
		}
		return "", refuse(msg+").", nil)
	case cb.Code == "":
		return "", refuse("The identity provider's answer has no authorization code; start the sign-in again.", nil)
	}
	row, err := s.q.SSOProviderGet(ctx, id)
	if err != nil {
		if err = pg.IgnoreNotFound(err); err != nil {
			return "", err
		}
		return "", refuse("This single sign-on provider no longer exists.", nil)
	}
	if !row.Enabled {
		return "", refuse("This single sign-on provider is disabled.", nil)
	}
	who, err := s.verify(ctx, row, login, cb)
	if err != nil {
		return "", err
	}
	return s.admit(ctx, row, who)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// verify exchanges the code with the PKCE verifier and verifies the ID token, nonce
// included.
func (s *Service) verify(ctx context.Context, row dbq.SsoProvider, login dbq.SsoLogin, cb Callback) (identity, error) {
	op, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return identity{}, refuse("The identity provider could not be reached; try again later.", err)
	}
	var secret string
	if row.ClientSecretSealed != nil {
		plain, err := s.sealer.Open(row.ClientSecretSealed, secretColumn.AD(row.ID))
		if err != nil {
			return identity{}, apperr.Internal(fmt.Errorf("open client secret of provider %s: %w", row.ID, err))
		}
		secret = string(plain)
	}
	conf := oauth2.Config{ClientID: row.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: login.RedirectUri, Scopes: row.Scopes}
	hc := s.clientContext(ctx)
	tok, err := conf.Exchange(hc, cb.Code, oauth2.VerifierOption(pkceVerifier(login.PkceKey, cb.State)))
	if err != nil {
		return identity{}, refuse("The identity provider did not accept the sign-in code; start the sign-in again.", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity{}, refuse("The identity provider sent no ID token.", nil)
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: row.ClientID, Now: s.opts.Now}).Verify(hc, raw)
	if err != nil {
		return identity{}, refuse("The identity provider's ID token did not verify.", err)
	}
	if subtle.ConstantTimeCompare(digest(idt.Nonce), login.NonceHash) != 1 {
		return identity{}, refuse("The ID token does not belong to this sign-in (its nonce differs).", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return identity{}, refuse("The identity provider's ID token has unreadable claims.", err)
	}
	who := identity{subject: idt.Subject, groups: stringsOf(claims[row.GroupsClaim])}
	who.username, _ = claims["preferred_username"].(string)
	who.email, _ = claims["email"].(string)
	if who.subject == "" {
		return identity{}, refuse("The identity provider's ID token names no subject.", nil)
	}
	return who, nil
}

// stringsOf reads a claim holding a list of strings, or one string.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// MapRole returns the role of a user in groups: the role of the first mapping whose group
// the user is in, else the default role, else "" (refused).
func MapRole(mappings []Mapping, groups []string, defaultRole *string) string {
	for _, m := range mappings {
		if slices.Contains(groups, m.Group) {
			return m.Role
		}
	}
	if defaultRole != nil {
		return *defaultRole
	}
	return ""
}

// admit links or creates the user, sets the mapped role and stores a handoff code, in one
// transaction with the audit events.
func (s *Service) admit(ctx context.Context, row dbq.SsoProvider, who identity) (string, error) {
	p, err := fromRow(row)
	if err != nil {
		return "", err
	}
	role := MapRole(p.Mappings, who.groups, p.DefaultRole)
	code, err := random(32)
	if err != nil {
		return "", apperr.Internal(err)
	}
	var userID uuid.UUID
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		linked, err := q.SSOIdentityGet(ctx, dbq.SSOIdentityGetParams{ProviderID: row.ID, Subject: who.subject})
		found := err == nil
		if err = pg.IgnoreNotFound(err); err != nil {
			return err
		}
		if role == "" {
			return refuse("Your account at the identity provider is not allowed to sign in here: none of your groups maps to a role.", nil)
		}
		if _, err := auth.RolePermissions(ctx, q, role); err != nil {
			if apperr.Is(err, apperr.CodeNotFound) {
				return refuse(fmt.Sprintf("The role %q your groups map to no longer exists; ask an administrator.", role), err)
			}
			return err
		}
		created := false
		if found {
			if linked.DisabledAt != nil {
				return refuse("Your OpenWatch account is disabled.", nil)
			}
			userID = linked.UserID
			if err := q.SSOIdentityTouch(ctx, dbq.SSOIdentityTouchParams{ProviderID: row.ID, Subject: who.subject}); err != nil {
				return pg.Translate(err)
			}
		} else {
			if userID, err = s.createUser(ctx, q, tx, row, who, role); err != nil {
				return err
			}
			created = true
		}
		if err := q.SSOUserRolesReplace(ctx, dbq.SSOUserRolesReplaceParams{UserID: userID, RoleID: role}); err != nil {
			return pg.Translate(err)
		}
		if err := q.AuthNotify(ctx, "user:"+userID.String()); err != nil {
			return pg.Translate(err)
		}
		if err := q.SSOHandoffInsert(ctx, dbq.SSOHandoffInsertParams{CodeHash: digest(code), UserID: userID, ProviderID: row.ID,
			ExpiresAt: s.opts.Now().Add(HandoffTTL)}); err != nil {
			return pg.Translate(err)
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, &authz.Principal{UserID: userID}, audit.ActionSSOLogin, "user", userID.String(),
			map[string]any{"provider_id": row.ID.String(), "provider": row.Name, "subject": who.subject, "role": role, "created": created}))
	})
	if err != nil {
		return "", err
	}
	if s.auth != nil {
		s.auth.InvalidateUser(userID)
	}
	return code, nil
}

// createUser creates the user of a new identity just in time, with role and an unusable
// password, and links the identity.
func (s *Service) createUser(ctx context.Context, q *dbq.Queries, tx pgx.Tx, row dbq.SsoProvider, who identity, role string) (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, apperr.Internal(err)
	}
	name := who.username
	if name == "" {
		name = who.email
	}
	if name == "" {
		name = "sso-" + who.subject
	}
	name = clip(name, 200)
	if _, err := q.UserGetByUsername(ctx, name); err == nil {
		// A local account (or another provider's user) has the name: never take it over.
		sum := sha256.Sum256([]byte(row.Issuer + "\x00" + who.subject))
		name += "-" + hex.EncodeToString(sum[:3])
	} else if err = pg.IgnoreNotFound(err); err != nil {
		return uuid.Nil, err
	}
	email := who.email
	if !strings.Contains(email, "@") || len(email) > 256 {
		email = "unknown@sso.invalid"
	}
	secret, err := random(32)
	if err != nil {
		return uuid.Nil, apperr.Internal(err)
	}
	hash, err := auth.HashPassword(secret, s.opts.Password)
	if err != nil {
		return uuid.Nil, apperr.Internal(err)
	}
	if _, err := q.UserInsert(ctx, dbq.UserInsertParams{ID: id, Username: name, Email: email, PasswordHash: hash}); err != nil {
		err = pg.Translate(err)
		if apperr.Is(err, apperr.CodeConflict) {
			return uuid.Nil, refuse("An account with your name was created at the same moment; sign in again.", err)
		}
		return uuid.Nil, err
	}
	if err := q.SSOIdentityInsert(ctx, dbq.SSOIdentityInsertParams{ProviderID: row.ID, Subject: who.subject, UserID: id}); err != nil {
		return uuid.Nil, pg.Translate(err)
	}
	return id, s.aw.Append(ctx, tx, audit.For(ctx, nil, audit.ActionUserCreated, "user", id.String(),
		map[string]any{"username": name, "email": email, "role": role, "sso_provider_id": row.ID.String(), "just_in_time": true}))
}

func errInvalidHandoff() error {
	return apperr.New(apperr.CodeInvalidHandoff, "The sign-in handoff code is unknown, expired or already used; sign in again.")
}

// ExchangeHandoff consumes a handoff code and opens the user's session. Of concurrent
// exchanges of one code, exactly one succeeds. Anonymous.
// Errors: auth.invalid_handoff.
func (s *Service) ExchangeHandoff(ctx context.Context, code string, info auth.ClientInfo) (auth.Tokens, error) {
	var t auth.Tokens
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		h, err := q.SSOHandoffTake(ctx, dbq.SSOHandoffTakeParams{CodeHash: digest(code), Now: s.opts.Now()})
		if err != nil {
			return pg.NotFoundAs(err, errInvalidHandoff())
		}
		user, err := q.UserGetByID(ctx, h.UserID)
		if err != nil {
			return pg.NotFoundAs(err, errInvalidHandoff())
		}
		if user.DisabledAt != nil {
			return errInvalidHandoff()
		}
		if t, err = s.auth.OpenSSOSessionTx(ctx, tx, user, h.ProviderID, info); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, &authz.Principal{UserID: user.ID}, audit.ActionLoginSucceeded, "user", user.ID.String(),
			map[string]any{"username": user.Username, "second_factor": "identity_provider", "sso_provider_id": h.ProviderID.String()}))
	})
	return t, err
}
