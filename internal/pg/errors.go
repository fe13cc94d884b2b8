package pg

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/openwatch/openwatch/internal/apperr"
)

// SQLSTATE codes Translate knows. See the PostgreSQL manual, appendix A.
const (
	codeUniqueViolation       = "23505"
	codeForeignKeyViolation   = "23503"
	codeCheckViolation        = "23514"
	codeNotNullViolation      = "23502"
	codeStringTooLong         = "22001"
	codeNumericOutOfRange     = "22003"
	codeInvalidDatetime       = "22007"
	codeDatetimeOutOfRange    = "22008"
	codeInvalidTextRepr       = "22P02"
	codeAdminShutdown         = "57P01"
	codeCrashShutdown         = "57P02"
	codeCannotConnectNow      = "57P03"
	codeTooManyConnections    = "53300"
	classConnectionException  = "08"
	notFoundMessage           = "The resource does not exist."
	conflictMessage           = "The resource already exists."
	stillReferencedMessage    = "The resource is still in use by other resources."
	invalidValueMessage       = "A value in the request is not allowed."
	invalidValueFormatMessage = "A value in the request is badly formed or out of range."
)

// fkDetail matches the DETAIL of a foreign-key violation:
//
//	Key (user_id)=(0190…) is not present in table "users".
//	Key (id)=(0190…) is still referenced from table "sessions".
var fkDetail = regexp.MustCompile(`^Key \(([^)]*)\)=\(.*\) is (not present in|still referenced from) table`)

// Translate turns a driver error into the apperr kind it means, keeping err as the logged
// cause; the result never carries SQL or values to clients:
//
//   - pgx.ErrNoRows: NotFound.
//   - unique_violation: Conflict, naming the duplicated field when the constraint name
//     says it (for example users_username_live_key gives "username").
//   - foreign_key_violation: Invalid naming the column when a row refers to a missing one;
//     Conflict when a row cannot be deleted because others still refer to it.
//   - check_violation, not_null_violation and malformed or out-of-range values: Invalid.
//   - a closed pool, a failed connection attempt (refused, timed out, authentication,
//     missing database), a connection lost or a server shutting down: Unavailable.
//
// nil and errors that already carry an apperr kind are returned unchanged; anything else
// (including a cancelled context: the caller went away) is returned as is, for the caller
// to wrap with %w. A deadline that passed while waiting for the database (an overloaded
// pool or server) is Unavailable naming the layer, so callers retry instead of seeing an
// internal error.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return withCause(apperr.NotFound(notFoundMessage), err)
	}
	if unavailable(err) {
		return apperr.Unavailable(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Unavailable(err).WithDetail("layer", "database")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case codeUniqueViolation:
		field := constraintField(pgErr.TableName, pgErr.ConstraintName,
			"_pkey", "_key", "_unique", "_uniq", "_idx", "_live")
		if field == "" || strings.HasSuffix(pgErr.ConstraintName, "_pkey") {
			return withCause(apperr.Conflict(conflictMessage), err)
		}
		return withCause(apperr.Conflict("A resource with this "+words(field)+" already exists.").
			WithDetail("field", field), err)
	case codeForeignKeyViolation:
		m := fkDetail.FindStringSubmatch(pgErr.Detail)
		if m != nil && m[2] == "still referenced from" {
			return withCause(apperr.Conflict(stillReferencedMessage), err)
		}
		field := pgErr.ColumnName
		if m != nil {
			field = m[1]
		}
		if field == "" {
			field = constraintField(pgErr.TableName, pgErr.ConstraintName, "_fkey", "_fk")
		}
		return withCause(invalid(field, "The "+words(field)+" refers to a resource that does not exist.",
			"A value in the request refers to a resource that does not exist."), err)
	case codeCheckViolation:
		field := constraintField(pgErr.TableName, pgErr.ConstraintName,
			"_check", "_chk", "_len", "_length", "_range", "_format", "_valid")
		return withCause(invalid(field, "The "+words(field)+" is not allowed.", invalidValueMessage), err)
	case codeNotNullViolation:
		field := pgErr.ColumnName
		return withCause(invalid(field, "The "+words(field)+" is required.", "A required value is missing."), err)
	case codeStringTooLong, codeNumericOutOfRange, codeInvalidDatetime, codeDatetimeOutOfRange, codeInvalidTextRepr:
		return withCause(invalid(pgErr.ColumnName, "The "+words(pgErr.ColumnName)+" is badly formed or out of range.",
			invalidValueFormatMessage), err)
	}
	return err
}

// NotFoundAs is Translate for a query whose missing row means a particular error to the
// caller: pgx.ErrNoRows becomes notFound (a fresh value the caller builds, such as
// errNotFound()), any other error is translated, and nil stays nil.
func NotFoundAs(err, notFound error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	return Translate(err)
}

// IgnoreNotFound is Translate for a query whose row is optional: pgx.ErrNoRows becomes nil
// and any other error is translated.
func IgnoreNotFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return Translate(err)
}

// unavailable reports whether err means the database cannot be reached or used right now.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	if errors.Is(err, puddle.ErrClosedPool) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeTooManyConnections:
			return true
		}
		return strings.HasPrefix(pgErr.Code, classConnectionException)
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

// constraintField guesses the field a constraint guards from its name, by the naming
// convention <table>_<field>_<suffix> (users_username_live_key → username). It returns ""
// when nothing is left.
func constraintField(table, constraint string, suffixes ...string) string {
	name := strings.TrimPrefix(constraint, table+"_")
	for changed := true; changed; {
		changed = false
		for _, s := range suffixes {
			if trimmed, ok := strings.CutSuffix(name, s); ok && trimmed != "" {
				name, changed = trimmed, true
			}
		}
	}
	if name == constraint {
		// The name did not follow the convention: don't guess.
		return ""
	}
	for _, s := range suffixes {
		if name == strings.TrimPrefix(s, "_") {
			return ""
		}
	}
	return name
}

// words turns an identifier such as user_id into "user id" for a message.
func words(field string) string {
	return strings.ReplaceAll(field, "_", " ")
}

// invalid returns a validation error on field, or a field-less one when field is unknown.
func invalid(field, message, fallback string) *apperr.Error {
	if field == "" {
		return apperr.New(apperr.CodeValidationFailed, fallback)
	}
	return apperr.Invalid(field, message)
}

func withCause(e *apperr.Error, cause error) *apperr.Error {
	e.Err = cause
	return e
}

// IsUniqueViolation reports whether err is a unique violation of the named constraint or
// index.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == constraint
}

// isUndefinedTable reports whether err says a table does not exist (42P01).
func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
