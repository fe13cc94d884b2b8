package events

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// TicketTTL is how long a stream ticket stays valid.
const TicketTTL = 30 * time.Second

// PrincipalLoader reloads the current principal behind a reference to a session
// (SessionID and UserID) or an API token (TokenID), with its roles and permissions as
// they are now (auth.Service implements it).
type PrincipalLoader interface {
	Reload(ctx context.Context, p *authz.Principal) (*authz.Principal, error)
}

// Tickets issues and redeems the single-use tickets that authenticate one event stream
// for browsers, whose EventSource cannot send an Authorization header. Only a ticket's
// SHA-256 is stored, in the database, so any replica redeems it, once.
type Tickets struct {
	pool   *pgxpool.Pool
	loader PrincipalLoader
}

// NewTickets returns the ticket service.
func NewTickets(pool *pgxpool.Pool, loader PrincipalLoader) *Tickets {
	return &Tickets{pool: pool, loader: loader}
}

func errBadTicket() error {
	return apperr.New(apperr.CodeAuthInvalidToken,
		"The event stream ticket is unknown, already used or expired; request a new one with POST /events:ticket.")
}

// errNoTicketIdentity() should never happen: every principal the authenticator builds has a
// session or an API token.
func errNoTicketIdentity() error {
	return apperr.Internal(errors.New("events: principal has neither a session nor an API token"))
}

// Issue returns a new ticket for p and when it expires. The ticket names p's session (or
// API token), so it stops working when that session ends or the token is revoked.
// Errors: service.unavailable.
func (t *Tickets) Issue(ctx context.Context, p *authz.Principal) (string, time.Time, error) {
	params := dbq.EventTicketInsertParams{TtlSeconds: TicketTTL.Seconds()}
	switch {
	case p == nil:
		return "", time.Time{}, errNoTicketIdentity()
	case p.IsServiceAccount():
		params.Kind, params.ServiceAccountID, params.TokenID = "token", ptr(p.ServiceAccountID), ptr(p.TokenID)
	case p.SessionID != uuid.Nil && p.UserID != uuid.Nil:
		params.Kind, params.UserID, params.SessionID = "session", ptr(p.UserID), ptr(p.SessionID)
	default:
		return "", time.Time{}, errNoTicketIdentity()
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, apperr.Internal(err)
	}
	ticket := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(ticket))
	params.TokenHash = sum[:]
	expires, err := dbq.New(t.pool).EventTicketInsert(ctx, params)
	if err != nil {
		return "", time.Time{}, pg.Translate(err)
	}
	return ticket, expires, nil
}

// Redeem consumes ticket and returns the principal it was issued to, reloaded now (a user
// disabled since, or a revoked token, fails). A ticket works once, on any replica.
// Errors: auth.invalid_token, service.unavailable.
func (t *Tickets) Redeem(ctx context.Context, ticket string) (*authz.Principal, error) {
	if ticket == "" || len(ticket) > 128 {
		return nil, errBadTicket()
	}
	sum := sha256.Sum256([]byte(ticket))
	row, err := dbq.New(t.pool).EventTicketConsume(ctx, sum[:])
	if err != nil {
		return nil, pg.NotFoundAs(err, errBadTicket())
	}
	if !row.Live {
		return nil, errBadTicket()
	}
	var ref authz.Principal
	switch {
	case row.Kind == "session" && row.SessionID != nil && row.UserID != nil:
		ref.SessionID, ref.UserID = *row.SessionID, *row.UserID
	case row.Kind == "token" && row.TokenID != nil:
		ref.TokenID = *row.TokenID
	default:
		return nil, errBadTicket()
	}
	return t.loader.Reload(ctx, &ref)
}

func ptr[T any](v T) *T { return &v }
