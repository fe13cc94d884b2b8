package user

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// Service manages users and their role assignments.
type Service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	password auth.PasswordParams
	inv      Invalidator
	audit    *audit.Writer
}

// Invalidator drops this process's cached sessions of a user, so a change takes effect on
// the very next request; other processes learn of it through the notification sent in
// the same transaction.
type Invalidator interface {
	InvalidateUser(id uuid.UUID)
}

// NewService returns the user service. inv may be nil where no sessions are cached (CLI).
func NewService(pool *pgxpool.Pool, password auth.PasswordParams, inv Invalidator, aw *audit.Writer) *Service {
	return &Service{pool: pool, q: dbq.New(pool), password: password, inv: inv, audit: aw}
}

// changed runs fn in a transaction that changes user id and records ev in the audit trail
// in the same transaction, then drops the user's cached sessions in this process.
func (s *Service) changed(ctx context.Context, id uuid.UUID, ev audit.Event, fn func(q *dbq.Queries) error) error {
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := fn(q); err != nil {
			return err
		}
		if err := q.AuthNotify(ctx, "user:"+id.String()); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, ev)
	})
	if err == nil && s.inv != nil {
		s.inv.InvalidateUser(id)
	}
	return err
}

// User is a user with its roles.
type User struct {
	dbq.User
	Roles []string
}

// CreateInput describes a new user.
type CreateInput struct {
	Username string
	Email    string
	Password string
	Role     string
}

// Create adds a user with one role (default viewer). actor is nil for the system (CLI,
// first start); otherwise it must hold every permission of the role. Guarded by user:write.
// Errors: validation_failed, authz.permission_denied, resource.conflict (username taken).
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (User, error) {
	if in.Role == "" {
		in.Role = authz.RoleViewer
	}
	if err := auth.CheckPassword("password", in.Password, in.Username); err != nil {
		return User{}, err
	}
	if !strings.Contains(in.Email, "@") {
		return User{}, apperr.Invalid("email", "email is not a valid email address")
	}
	hash, err := auth.HashPassword(in.Password, s.password)
	if err != nil {
		return User{}, apperr.Internal(err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return User{}, apperr.Internal(err)
	}
	var u User
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := auth.CheckGrantable(ctx, q, actor, "role", in.Role); err != nil {
			return err
		}
		row, err := q.UserInsert(ctx, dbq.UserInsertParams{ID: id, Username: in.Username, Email: in.Email, PasswordHash: hash})
		if err != nil {
			return usernameTaken(err, in.Username)
		}
		if _, err := q.UserRoleAssign(ctx, dbq.UserRoleAssignParams{UserID: id, RoleID: in.Role, GrantedBy: actor.Actor().UserID()}); err != nil {
			return pg.Translate(err)
		}
		u = User{User: row, Roles: []string{in.Role}}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionUserCreated, "user", id.String(),
			map[string]any{"username": in.Username, "email": in.Email, "role": in.Role}))
	})
	return u, err
}

// usernameTaken translates err, naming username when the name is taken.
func usernameTaken(err error, username string) error {
	err = pg.Translate(err)
	if apperr.Is(err, apperr.CodeConflict) {
		return apperr.Conflict(fmt.Sprintf("A user named %q already exists.", username)).WithDetail("field", "username")
	}
	return err
}

func errNotFound() error { return apperr.NotFound("The user does not exist.") }

// List returns a page of live users in creation order. Guarded by user:read.
func (s *Service) List(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[User], error) {
	rows, err := s.q.UserList(ctx, dbq.UserListParams{After: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[User]{}, pg.Translate(err)
	}
	users := cursor.Cut(page, rows, func(u dbq.User) uuid.UUID { return u.ID })
	ids := make([]uuid.UUID, len(users.Items))
	for i, r := range users.Items {
		ids[i] = r.ID
	}
	roles, err := s.q.UserRolesForUsers(ctx, ids)
	if err != nil {
		return cursor.Page[User]{}, pg.Translate(err)
	}
	byUser := map[uuid.UUID][]string{}
	for _, r := range roles {
		byUser[r.UserID] = append(byUser[r.UserID], r.RoleID)
	}
	return cursor.Map(users, func(r dbq.User) User { return User{User: r, Roles: byUser[r.ID]} }), nil
}

// Get returns a live user. Guarded by user:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (User, error) {
	return s.get(ctx, s.q, id)
}

func (s *Service) get(ctx context.Context, q *dbq.Queries, id uuid.UUID) (User, error) {
	u, err := q.UserGetByID(ctx, id)
	if err != nil {
		return User{}, pg.NotFoundAs(err, errNotFound())
	}
	return withRoles(ctx, q, u)
}

// withRoles adds the roles of u.
func withRoles(ctx context.Context, q *dbq.Queries, u dbq.User) (User, error) {
	roles, err := q.UserRoleList(ctx, u.ID)
	if err != nil {
		return User{}, pg.Translate(err)
	}
	return User{User: u, Roles: roles}, nil
}

// UpdateInput holds the fields to change; nil leaves a field as it is.
type UpdateInput struct {
	Username *string
	Email    *string
}

// Update changes a user's username or email. Guarded by user:write.
// Errors: resource.not_found, resource.conflict, validation_failed.
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, in UpdateInput) (User, error) {
	if in.Email != nil && !strings.Contains(*in.Email, "@") {
		return User{}, apperr.Invalid("email", "email is not a valid email address")
	}
	var u User
	detail := map[string]any{}
	if in.Username != nil {
		detail["username"] = *in.Username
	}
	if in.Email != nil {
		detail["email"] = *in.Email
	}
	err := s.changed(ctx, id, audit.For(ctx, actor, audit.ActionUserUpdated, "user", id.String(), detail), func(q *dbq.Queries) error {
		row, err := q.UserUpdate(ctx, dbq.UserUpdateParams{ID: id, Username: in.Username, Email: in.Email})
		if err != nil {
			err = pg.NotFoundAs(err, errNotFound())
			if in.Username == nil {
				return err
			}
			return usernameTaken(err, *in.Username)
		}
		u, err = withRoles(ctx, q, row)
		return err
	})
	return u, err
}

// Delete soft-deletes a user and ends its sessions. Nobody can delete themself or the last
// active admin. Guarded by user:delete.
// Errors: resource.not_found, user.self_lockout, user.last_admin.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	if actor != nil && actor.UserID == id {
		return apperr.New(apperr.CodeSelfLockout, "You cannot delete your own account.")
	}
	return s.changed(ctx, id, audit.For(ctx, actor, audit.ActionUserDeleted, "user", id.String(), nil), func(q *dbq.Queries) error {
		if err := guardLastAdmin(ctx, q, id, "deleted"); err != nil {
			return err
		}
		n, err := q.UserSoftDelete(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errNotFound()
		}
		_, err = q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: id})
		return pg.Translate(err)
	})
}

// SetDisabled disables or enables a user. Disabling ends the user's sessions; nobody can
// disable themself or the last active admin. Guarded by user:write.
// Errors: resource.not_found, user.self_lockout, user.last_admin.
func (s *Service) SetDisabled(ctx context.Context, actor *authz.Principal, id uuid.UUID, disabled bool) (User, error) {
	if disabled && actor != nil && actor.UserID == id {
		return User{}, apperr.New(apperr.CodeSelfLockout, "You cannot disable your own account.")
	}
	var u User
	action := audit.ActionUserEnabled
	if disabled {
		action = audit.ActionUserDisabled
	}
	err := s.changed(ctx, id, audit.For(ctx, actor, action, "user", id.String(), nil), func(q *dbq.Queries) error {
		if disabled {
			if err := guardLastAdmin(ctx, q, id, "disabled"); err != nil {
				return err
			}
		}
		row, err := q.UserSetDisabled(ctx, dbq.UserSetDisabledParams{ID: id, Disabled: disabled})
		if err != nil {
			return pg.NotFoundAs(err, errNotFound())
		}
		if disabled {
			if _, err := q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: id}); err != nil {
				return pg.Translate(err)
			}
		}
		u, err = withRoles(ctx, q, row)
		return err
	})
	return u, err
}

// ResetPassword sets a user's password and ends the user's sessions. Guarded by user:write.
// Errors: resource.not_found, validation_failed.
func (s *Service) ResetPassword(ctx context.Context, actor *authz.Principal, id uuid.UUID, password string) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword("new_password", password, u.Username); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, s.password)
	if err != nil {
		return apperr.Internal(err)
	}
	return s.changed(ctx, id, audit.For(ctx, actor, audit.ActionUserPasswordReset, "user", id.String(), nil), func(q *dbq.Queries) error {
		n, err := q.UserSetPassword(ctx, dbq.UserSetPasswordParams{ID: id, PasswordHash: hash})
		if err != nil {
			return pg.Translate(err)
		}
		if n == 0 {
			return errNotFound()
		}
		_, err = q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: id})
		return pg.Translate(err)
	})
}

// accountReason checks the reason an administrator gives for an account action.
func accountReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", apperr.Invalid("reason", "Give a reason: it goes to the audit trail.")
	}
	return reason, nil
}

// RevokeSessions ends every session of a user, and with them the user's access and
// refresh tokens, on every process (the notification is sent in the same transaction).
// Nobody can do this to themself here (the account page ends one's own sessions).
// Guarded by user:write.
// Errors: resource.not_found, user.self_lockout, validation_failed (reason).
func (s *Service) RevokeSessions(ctx context.Context, actor *authz.Principal, id uuid.UUID, reason string) (int64, error) {
	reason, err := accountReason(reason)
	if err != nil {
		return 0, err
	}
	if actor != nil && actor.UserID == id {
		return 0, apperr.New(apperr.CodeSelfLockout, "You cannot sign yourself out everywhere from here: use your account page.")
	}
	var n int64
	ev := audit.For(ctx, actor, audit.ActionUserSessionsRevoked, "user", id.String(), map[string]any{"reason": reason})
	err = s.changed(ctx, id, ev, func(q *dbq.Queries) error {
		if _, err := s.get(ctx, q, id); err != nil {
			return err
		}
		n, err = q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: id})
		if err != nil {
			return pg.Translate(err)
		}
		ev.Detail["sessions_revoked"] = n
		return nil
	})
	return n, err
}

// ResetMFA removes a user's second factor (TOTP secret and recovery codes) and ends the
// user's sessions; where MFA is required the user enrols again at the next sign-in.
// Nobody can reset their own MFA here. Guarded by user:write.
// Errors: resource.not_found, user.self_lockout, validation_failed (reason).
func (s *Service) ResetMFA(ctx context.Context, actor *authz.Principal, id uuid.UUID, reason string) (User, error) {
	reason, err := accountReason(reason)
	if err != nil {
		return User{}, err
	}
	if actor != nil && actor.UserID == id {
		return User{}, apperr.New(apperr.CodeSelfLockout, "You cannot reset your own MFA from here: use your account page.")
	}
	var u User
	ev := audit.For(ctx, actor, audit.ActionUserMFAReset, "user", id.String(), map[string]any{"reason": reason})
	err = s.changed(ctx, id, ev, func(q *dbq.Queries) error {
		before, err := s.get(ctx, q, id)
		if err != nil {
			return err
		}
		ev.Detail["had_mfa"] = before.MfaEnabledAt != nil
		if _, err := q.UserResetMFA(ctx, id); err != nil {
			return pg.Translate(err)
		}
		if err := q.RecoveryCodesDelete(ctx, id); err != nil {
			return pg.Translate(err)
		}
		if _, err := q.SessionRevokeForUser(ctx, dbq.SessionRevokeForUserParams{UserID: id}); err != nil {
			return pg.Translate(err)
		}
		u, err = s.get(ctx, q, id)
		return err
	})
	return u, err
}

// AssignRole gives a user a role; the actor must hold every permission of the role.
// Idempotent. Guarded by role:assign.
// Errors: resource.not_found, validation_failed (unknown role), authz.permission_denied.
func (s *Service) AssignRole(ctx context.Context, actor *authz.Principal, id uuid.UUID, role string) error {
	ev := audit.For(ctx, actor, audit.ActionRoleAssigned, "user", id.String(), map[string]any{"role_id": role})
	return s.changed(ctx, id, ev, func(q *dbq.Queries) error {
		if err := checkRoleChange(ctx, q, actor, id, role); err != nil {
			return err
		}
		_, err := q.UserRoleAssign(ctx, dbq.UserRoleAssignParams{UserID: id, RoleID: role, GrantedBy: actor.Actor().UserID()})
		return pg.Translate(err)
	})
}

// UnassignRole removes a role from a user; the actor must hold every permission of the
// role, and the last active admin keeps the admin role. Idempotent. Guarded by role:assign.
// Errors: resource.not_found, validation_failed, authz.permission_denied, user.last_admin.
func (s *Service) UnassignRole(ctx context.Context, actor *authz.Principal, id uuid.UUID, role string) error {
	ev := audit.For(ctx, actor, audit.ActionRoleUnassigned, "user", id.String(), map[string]any{"role_id": role})
	return s.changed(ctx, id, ev, func(q *dbq.Queries) error {
		if err := checkRoleChange(ctx, q, actor, id, role); err != nil {
			return err
		}
		if role == authz.RoleAdmin {
			if err := guardLastAdmin(ctx, q, id, "demoted"); err != nil {
				return err
			}
		}
		_, err := q.UserRoleUnassign(ctx, dbq.UserRoleUnassignParams{UserID: id, RoleID: role})
		return pg.Translate(err)
	})
}

// checkRoleChange checks that actor may grant role and that user id exists.
func checkRoleChange(ctx context.Context, q *dbq.Queries, actor *authz.Principal, id uuid.UUID, role string) error {
	if err := auth.CheckGrantable(ctx, q, actor, "role_id", role); err != nil {
		return err
	}
	_, err := q.UserGetByID(ctx, id)
	return pg.NotFoundAs(err, errNotFound())
}

// guardLastAdmin refuses a change that would leave no active admin, when id is an active
// admin. It takes a transaction-scoped lock so concurrent changes are judged one at a time.
func guardLastAdmin(ctx context.Context, q *dbq.Queries, id uuid.UUID, verb string) error {
	if err := q.AdminsLock(ctx); err != nil {
		return pg.Translate(err)
	}
	u, err := q.UserGetByID(ctx, id)
	if err != nil {
		return pg.IgnoreNotFound(err) // the caller reports the missing user
	}
	roles, err := q.UserRoleList(ctx, id)
	if err != nil {
		return pg.Translate(err)
	}
	if u.DisabledAt != nil || !slices.Contains(roles, authz.RoleAdmin) {
		return nil
	}
	n, err := q.AdminCountActive(ctx)
	if err != nil {
		return pg.Translate(err)
	}
	if n <= 1 {
		return apperr.Newf(apperr.CodeLastAdmin, "%s is the last active admin and cannot be %s; make another user admin first.", u.Username, verb)
	}
	return nil
}

// Count returns the number of live users.
func (s *Service) Count(ctx context.Context) (int64, error) {
	n, err := s.q.UserCountLive(ctx)
	return n, pg.Translate(err)
}

// ErrUsersExist is returned by EnsureInitialAdmin when there is nothing to do.
var ErrUsersExist = errors.New("users exist")

// EnsureInitialAdmin creates the user "admin" with a random password when there are no
// users at all, and returns the password. It returns ErrUsersExist otherwise.
func (s *Service) EnsureInitialAdmin(ctx context.Context) (string, error) {
	n, err := s.Count(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", ErrUsersExist
	}
	pw, err := RandomPassword(20)
	if err != nil {
		return "", err
	}
	_, err = s.Create(ctx, nil, CreateInput{Username: "admin", Email: "admin@localhost", Password: pw, Role: authz.RoleAdmin})
	if apperr.Is(err, apperr.CodeConflict) {
		// Another process created it first.
		return "", ErrUsersExist
	}
	return pw, err
}

// RandomPassword returns a password of n characters from an unambiguous alphabet.
func RandomPassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
