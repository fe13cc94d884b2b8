package user

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Service manages users.
type Service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	password auth.PasswordParams
}

// NewService returns the user service.
func NewService(pool *pgxpool.Pool, password auth.PasswordParams) *Service {
	return &Service{pool: pool, q: dbq.New(pool), password: password}
}

// CreateInput describes a new user.
type CreateInput struct {
	Username string
	Email    string
	Password string
	Role     string
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// Create adds a user. Guarded by user:write.
// Errors: validation_failed, resource.conflict (username taken).
func (s *Service) Create(ctx context.Context, in CreateInput) (dbq.User, error) {
	if in.Role == "" {
		in.Role = authz.RoleViewer
	}
	if authz.RolePermissions(in.Role) == nil {
		return dbq.User{}, apperr.Invalid("role", fmt.Sprintf("role %q does not exist", in.Role))
	}
	if utf8.RuneCountInString(in.Password) < MinPasswordLength {
		return dbq.User{}, apperr.Invalid("password", fmt.Sprintf("password must be at least %d characters", MinPasswordLength))
	}
	if !strings.Contains(in.Email, "@") {
		return dbq.User{}, apperr.Invalid("email", "email is not a valid email address")
	}
	hash, err := auth.HashPassword(in.Password, s.password)
	if err != nil {
		return dbq.User{}, apperr.Internal(err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return dbq.User{}, apperr.Internal(err)
	}
	u, err := s.q.UserInsert(ctx, dbq.UserInsertParams{ID: id, Username: in.Username, Email: in.Email, PasswordHash: hash, Role: in.Role})
	if err != nil {
		err = pg.Translate(err)
		if apperr.Is(err, apperr.CodeConflict) {
			return dbq.User{}, apperr.Conflict(fmt.Sprintf("A user named %q already exists.", in.Username)).WithDetail("field", "username")
		}
		return dbq.User{}, err
	}
	return u, nil
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
	_, err = s.Create(ctx, CreateInput{Username: "admin", Email: "admin@localhost", Password: pw, Role: authz.RoleAdmin})
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
