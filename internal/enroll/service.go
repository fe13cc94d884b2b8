package enroll

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/ssh"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/ratelimit"
	"github.com/openwatch/openwatch/internal/sshca"
)

// The statuses of a request.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
)

// The statuses of a token (computed, never stored).
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenUsedUp  = "used_up"
	TokenRevoked = "revoked"
)

// Defaults and bounds.
const (
	// DefaultUsername is the scan account the script creates unless the token says otherwise.
	DefaultUsername = "openwatch"
	// DefaultTokenLifetime is how long a token works unless its expiry is given.
	DefaultTokenLifetime = 24 * time.Hour
	// MaxTokenLifetime bounds a token's expiry.
	MaxTokenLifetime = 90 * 24 * time.Hour
	// EventRequested is the live event of a new request (topic discovery, for holders of
	// enrollment:read).
	EventRequested = "enrollment.requested"
	// ScanTrigger is the trigger of a host's first compliance scan.
	ScanTrigger = "enrollment"
	// tokenPrefix and pollPrefix start the secrets, so a leaked one is recognisable.
	tokenPrefix = "owe_"
	pollPrefix  = "owp_"
)

// Rate limits of the anonymous operations per client address (per process).
const (
	// The script and POST /enroll: a burst for a rollout behind one address, then one every
	// two seconds.
	DefaultSubmitRate  = 0.5
	DefaultSubmitBurst = 30
	// Status polls: a script polls every few seconds; many hosts may share an address.
	DefaultStatusRate  = 5
	DefaultStatusBurst = 120
)

// SystemInfo queues a host's first system info collection inside a transaction;
// *intel.Service satisfies it.
type SystemInfo interface {
	EnqueueSystemInfoTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) (bool, error)
}

// Rescanner queues a compliance scan of every rule of a host inside a transaction;
// *scan.Service satisfies it.
type Rescanner interface {
	RescanTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, ruleIDs []string, trigger string) (uuid.UUID, error)
}

// CredentialFunc creates, inside tx, the host-scoped credential an enrolled host is
// scanned with: auth method certificate, logging in as username.
type CredentialFunc func(ctx context.Context, tx pgx.Tx, actor *authz.Principal, hostID uuid.UUID, hostname, username string) error

// Options tunes the service; the zero value takes the defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// PublicURL is the server's external URL; empty uses https://<the request's Host>.
	PublicURL string
	// CABundle returns the PEM certificates clients must trust to verify the server (nil
	// when its certificate is publicly trusted). Read for every script served.
	CABundle func() ([]byte, error)
	// Credential creates an enrolled host's certificate credential; nil creates none.
	Credential CredentialFunc
	// Rate limits per client address (0 takes the defaults).
	SubmitRate  float64
	SubmitBurst int
	StatusRate  float64
	StatusBurst int
}

// Service is self-enrollment.
type Service struct {
	pool   *pgxpool.Pool
	q      *dbq.Queries
	aw     *audit.Writer
	hosts  *host.Service
	ca     *sshca.Service
	intel  SystemInfo
	scans  Rescanner
	opts   Options
	submit *ratelimit.Limiter
	status *ratelimit.Limiter
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer, hosts *host.Service, ca *sshca.Service, intel SystemInfo, scans Rescanner, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CABundle == nil {
		o.CABundle = func() ([]byte, error) { return nil, nil }
	}
	if o.SubmitRate == 0 {
		o.SubmitRate, o.SubmitBurst = DefaultSubmitRate, DefaultSubmitBurst
	}
	if o.StatusRate == 0 {
		o.StatusRate, o.StatusBurst = DefaultStatusRate, DefaultStatusBurst
	}
	return &Service{pool: pool, q: dbq.New(pool), aw: aw, hosts: hosts, ca: ca, intel: intel, scans: scans, opts: o,
		submit: ratelimit.NewLimiter(o.SubmitRate, o.SubmitBurst, o.Now),
		status: ratelimit.NewLimiter(o.StatusRate, o.StatusBurst, o.Now)}
}

func (s *Service) now() time.Time { return s.opts.Now() }

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func limited(l *ratelimit.Limiter, clientAddr string) error {
	if ok, wait := l.Allow(clientAddr); !ok {
		return apperr.RateLimited("Too many enrollment requests from this address; wait and try again.", wait)
	}
	return nil
}

func errTokenNotFound() error   { return apperr.NotFound("The enrollment token does not exist.") }
func errRequestNotFound() error { return apperr.NotFound("The enrollment request does not exist.") }

// errToken refuses an enrollment token, saying why.
func errToken(reason string) error {
	msg := map[string]string{
		"unknown":    "The enrollment token is not valid.",
		TokenExpired: "The enrollment token has expired; ask for a new one.",
		TokenRevoked: "The enrollment token was revoked; ask for a new one.",
		TokenUsedUp:  "The enrollment token has been used as many times as it allows; ask for a new one.",
	}[reason]
	return apperr.New(apperr.CodeAuthInvalidToken, msg).WithDetail("reason", reason)
}

// Token is an enrollment token without its secret.
type Token struct {
	dbq.EnrollmentToken
	// Status is active, expired, used_up or revoked.
	Status string
}

func (s *Service) describe(t dbq.EnrollmentToken) Token {
	st := TokenActive
	switch {
	case t.RevokedAt != nil:
		st = TokenRevoked
	case !t.ExpiresAt.After(s.now()):
		st = TokenExpired
	case t.Uses >= t.MaxUses:
		st = TokenUsedUp
	}
	return Token{EnrollmentToken: t, Status: st}
}

// TokenInput describes a new token. Zero values take the defaults.
type TokenInput struct {
	Name        string
	ExpiresAt   *time.Time
	MaxUses     int
	AutoApprove bool
	GroupID     *uuid.UUID
	Environment string
	Tags        []string
	Username    string
}

// TokenCreated is a new token with its secret, shown once.
type TokenCreated struct {
	Token  Token
	Secret string
}

var usernameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// CreateToken creates a token. Guarded by enrollment:write; audited. Errors:
// validation_failed (name, expiry, max uses, group, username).
func (s *Service) CreateToken(ctx context.Context, actor *authz.Principal, in TokenInput) (TokenCreated, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return TokenCreated{}, apperr.Invalid("name", "name must be 1 to 100 characters")
	}
	now := s.now()
	expires := now.Add(DefaultTokenLifetime)
	if in.ExpiresAt != nil {
		expires = *in.ExpiresAt
	}
	if !expires.After(now) || expires.After(now.Add(MaxTokenLifetime)) {
		return TokenCreated{}, apperr.Invalid("expires_at", "expires_at must be in the future and at most 90 days ahead")
	}
	if in.MaxUses == 0 {
		in.MaxUses = 1
	}
	if in.MaxUses < 1 || in.MaxUses > 100000 {
		return TokenCreated{}, apperr.Invalid("max_uses", "max_uses must be between 1 and 100000")
	}
	if in.Environment == "" {
		in.Environment = host.DefaultEnvironment
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	if in.Username == "" {
		in.Username = DefaultUsername
	}
	if !usernameRE.MatchString(in.Username) || in.Username == "root" {
		return TokenCreated{}, apperr.Invalid("username", "username must be a lower-case account name other than root")
	}
	secret, err := newSecret(tokenPrefix)
	if err != nil {
		return TokenCreated{}, err
	}
	var out TokenCreated
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if in.GroupID != nil {
			ok, err := q.HostGroupExists(ctx, *in.GroupID)
			if err != nil {
				return pg.Translate(err)
			}
			if !ok {
				return apperr.Invalid("group_id", "group_id names no existing group")
			}
		}
		id, err := uuid.NewV7()
		if err != nil {
			return apperr.Internal(err)
		}
		row, err := q.EnrollTokenInsert(ctx, dbq.EnrollTokenInsertParams{
			ID: id, Name: in.Name, TokenHash: hash(secret), TokenPrefix: secret[:len(tokenPrefix)+6], ExpiresAt: expires,
			MaxUses: int32(in.MaxUses), AutoApprove: in.AutoApprove, GroupID: in.GroupID, Environment: in.Environment,
			Tags: in.Tags, Username: in.Username, CreatedBy: actor.Actor().String(),
		})
		if err != nil {
			return pg.Translate(err)
		}
		out = TokenCreated{Token: s.describe(row), Secret: secret}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionEnrollTokenCreated, "enrollment_token", id.String(), map[string]any{
			"name": in.Name, "expires_at": expires.UTC().Format(time.RFC3339), "max_uses": in.MaxUses, "auto_approve": in.AutoApprove,
			"environment": in.Environment, "tags": in.Tags, "username": in.Username, "token_prefix": row.TokenPrefix,
		}))
	})
	return out, err
}

// RevokeToken revokes a token. Guarded by enrollment:write; audited. Errors:
// resource.not_found, resource.conflict (already revoked).
func (s *Service) RevokeToken(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		by := actor.Actor().String()
		row, err := q.EnrollTokenRevoke(ctx, dbq.EnrollTokenRevokeParams{Now: s.now(), RevokedBy: &by, ID: id})
		if err != nil {
			if _, gerr := q.EnrollTokenGet(ctx, id); gerr != nil {
				return pg.NotFoundAs(gerr, errTokenNotFound())
			}
			return pg.NotFoundAs(err, apperr.Conflict("The enrollment token is already revoked."))
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionEnrollTokenRevoked, "enrollment_token", id.String(),
			map[string]any{"name": row.Name, "uses": row.Uses}))
	})
}

// ListTokens pages the tokens, newest first. Guarded by enrollment:read.
func (s *Service) ListTokens(ctx context.Context, page cursor.Request[cursor.TimeID]) (cursor.Page[Token], error) {
	rows, err := s.q.EnrollTokenList(ctx, dbq.EnrollTokenListParams{AfterCreated: cursor.AtOrNil(page.After),
		AfterID: cursor.IDOrNil(page.After), Lim: page.Fetch()})
	if err != nil {
		return cursor.Page[Token]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(r dbq.EnrollmentToken) cursor.TimeID { return cursor.TimeID{At: r.CreatedAt, ID: r.ID} })
	return cursor.Map(cut, s.describe), nil
}

// liveToken returns the token with secret when it can enroll a host, else why not.
func (s *Service) liveToken(ctx context.Context, q *dbq.Queries, secret string) (dbq.EnrollmentToken, error) {
	row, err := q.EnrollTokenByHash(ctx, hash(secret))
	if err != nil {
		return row, pg.NotFoundAs(err, errToken("unknown"))
	}
	if t := s.describe(row); t.Status != TokenActive {
		return row, errToken(t.Status)
	}
	return row, nil
}

// Facts is what a host reports about itself (the API's EnrollmentFacts).
type Facts struct {
	Hostname     string   `json:"hostname"`
	MachineID    string   `json:"machine_id,omitempty"`
	OSID         string   `json:"os_id,omitempty"`
	OSVersion    string   `json:"os_version,omitempty"`
	OSPrettyName string   `json:"os_pretty_name,omitempty"`
	Kernel       string   `json:"kernel,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	SSHAddress   string   `json:"ssh_address,omitempty"`
	SSHPort      int      `json:"ssh_port,omitempty"`
}

// SubmitInput is a host's enrollment request.
type SubmitInput struct {
	Token   string
	HostKey string
	Facts   Facts
	// ClientAddr is the address the request came from.
	ClientAddr string
}

// Submitted is the answer to a request: its id, status and poll secret.
type Submitted struct {
	ID         uuid.UUID
	Status     string
	PollSecret string
}

// hostKeyTypes are the host key types a request may present.
var hostKeyTypes = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521}

func parseHostKey(line string) (ssh.PublicKey, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, apperr.Invalid("host_key", "host_key is not a public key in authorized_keys format")
	}
	if !slices.Contains(hostKeyTypes, pub.Type()) {
		return nil, apperr.Invalid("host_key", fmt.Sprintf("host_key must be an ssh-ed25519 or ECDSA key, not %s", pub.Type())).
			WithDetail("key_type", pub.Type())
	}
	return pub, nil
}

// sshTarget returns the address and port OpenWatch will reach the host at: the one the
// facts name, else the request's client address.
func sshTarget(f Facts, clientAddr string) (netip.Addr, int, error) {
	port := f.SSHPort
	if port == 0 {
		port = 22
	}
	raw, field := f.SSHAddress, "facts.ssh_address"
	if raw == "" {
		raw, field = clientAddr, "facts.ssh_address"
	}
	a, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return netip.Addr{}, 0, apperr.Invalid(field, "facts.ssh_address must be an IPv4 or IPv6 address (the request's own address is used when it is not given)")
	}
	return a.Unmap(), port, nil
}

// Submit records a host's enrollment request, counting one use of its token, and
// approves it at once when the token says so. Anonymous (the token authorizes it);
// rate-limited per client address; audited. Errors: rate_limit.exceeded,
// auth.invalid_token (detail.reason unknown, expired, revoked or used_up),
// validation_failed (host key, facts), resource.conflict (a replayed host key, or on
// auto-approval a host name taken).
func (s *Service) Submit(ctx context.Context, in SubmitInput) (Submitted, error) {
	if err := limited(s.submit, in.ClientAddr); err != nil {
		return Submitted{}, err
	}
	pub, err := parseHostKey(in.HostKey)
	if err != nil {
		return Submitted{}, err
	}
	addr, port, err := sshTarget(in.Facts, in.ClientAddr)
	if err != nil {
		return Submitted{}, err
	}
	facts, err := json.Marshal(in.Facts)
	if err != nil {
		return Submitted{}, fmt.Errorf("encode facts: %w", err)
	}
	secret, err := newSecret(pollPrefix)
	if err != nil {
		return Submitted{}, err
	}
	fp := ssh.FingerprintSHA256(pub)
	var out Submitted
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		tok, err := q.EnrollTokenUse(ctx, dbq.EnrollTokenUseParams{TokenHash: hash(in.Token), Now: s.now()})
		if err != nil {
			if err := pg.IgnoreNotFound(err); err != nil {
				return err
			}
			_, err := s.liveToken(ctx, q, in.Token)
			if err == nil { // used up between the two statements
				err = errToken(TokenUsedUp)
			}
			return err
		}
		trusted, err := q.EnrollKeyTrusted(ctx, fp)
		if err != nil {
			return pg.Translate(err)
		}
		if trusted {
			return errReplay(fp)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return apperr.Internal(err)
		}
		row, err := q.EnrollRequestInsert(ctx, dbq.EnrollRequestInsertParams{
			ID: id, TokenID: tok.ID, PollSecretHash: hash(secret), Hostname: in.Facts.Hostname, Address: addr, Port: int32(port),
			ClientAddress: in.ClientAddr, Facts: facts, HostKeyType: pub.Type(),
			HostKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), HostKeyFingerprint: fp,
		})
		if pg.IsUniqueViolation(err, "enrollment_requests_key_live_idx") {
			return errReplay(fp)
		}
		if err != nil {
			return pg.Translate(err)
		}
		if err := s.aw.Append(ctx, tx, audit.For(ctx, nil, audit.ActionEnrollRequested, "enrollment_request", id.String(), map[string]any{
			"token_id": tok.ID.String(), "token_name": tok.Name, "hostname": row.Hostname, "address": addr.String(),
			"host_key_fingerprint": fp, "client_address": in.ClientAddr,
		})); err != nil {
			return err
		}
		out = Submitted{ID: id, Status: StatusPending, PollSecret: secret}
		if tok.AutoApprove {
			if _, err := s.approveTx(ctx, tx, nil, row, tok); err != nil {
				return err
			}
			out.Status = StatusApproved
		}
		// Operators watching the live event stream see the request arrive.
		_, err = events.Publish(ctx, tx, events.Event{Topic: events.TopicDiscovery, Type: EventRequested,
			Permission: authz.PermEnrollmentRead, Data: map[string]any{"request_id": id.String(), "hostname": row.Hostname,
				"address": addr.String(), "token_name": tok.Name, "status": out.Status}})
		return err
	})
	return out, err
}

func errReplay(fp string) error {
	return apperr.Conflict("This host key was already presented for enrollment, or belongs to an enrolled host; a host enrolls once.").
		WithDetail("host_key_fingerprint", fp)
}

// Status is what a host may read about its own request.
type Status struct {
	Status      string
	Certificate string // when approved
	Reason      string // when denied
}

// RequestStatus returns the status of the request whose poll secret is secret. Anonymous
// (the secret authorizes it); rate-limited per client address. Errors:
// rate_limit.exceeded, resource.not_found (unknown secret).
func (s *Service) RequestStatus(ctx context.Context, secret, clientAddr string) (Status, error) {
	if err := limited(s.status, clientAddr); err != nil {
		return Status{}, err
	}
	return s.readStatus(ctx, secret)
}

func (s *Service) readStatus(ctx context.Context, secret string) (Status, error) {
	row, err := s.q.EnrollRequestByPollHash(ctx, hash(secret))
	if err != nil {
		return Status{}, pg.NotFoundAs(err, errRequestNotFound())
	}
	out := Status{Status: row.Status}
	switch {
	case row.Status == StatusApproved && row.CertificateID != nil:
		if out.Certificate, err = s.q.EnrollCertificate(ctx, *row.CertificateID); err != nil {
			return Status{}, pg.Translate(err)
		}
	case row.Status == StatusDenied && row.DenyReason != nil:
		out.Reason = *row.DenyReason
	}
	return out, nil
}

// Request is an enrollment request with its token's name.
type Request struct {
	dbq.EnrollmentRequest
	TokenName string
}

// Filter selects requests.
type Filter struct {
	Status *string
}

// List pages the requests, newest first. Guarded by enrollment:read. Errors:
// validation_failed (status).
func (s *Service) List(ctx context.Context, f Filter, page cursor.Request[cursor.TimeID]) (cursor.Page[Request], error) {
	if f.Status != nil && !slices.Contains([]string{StatusPending, StatusApproved, StatusDenied}, *f.Status) {
		return cursor.Page[Request]{}, apperr.Invalid("status", "status must be pending, approved or denied")
	}
	rows, err := s.q.EnrollRequestList(ctx, dbq.EnrollRequestListParams{Status: f.Status,
		AfterCreated: cursor.AtOrNil(page.After), AfterID: cursor.IDOrNil(page.After), Lim: page.Fetch()})
	if err != nil {
		return cursor.Page[Request]{}, pg.Translate(err)
	}
	cut := cursor.Cut(page, rows, func(r dbq.EnrollmentRequest) cursor.TimeID { return cursor.TimeID{At: r.CreatedAt, ID: r.ID} })
	out := cursor.Page[Request]{Items: make([]Request, len(cut.Items)), Next: cut.Next}
	names := map[uuid.UUID]string{}
	for i, r := range cut.Items {
		if _, ok := names[r.TokenID]; !ok {
			t, err := s.q.EnrollTokenGet(ctx, r.TokenID)
			if err != nil {
				return cursor.Page[Request]{}, pg.Translate(err)
			}
			names[r.TokenID] = t.Name
		}
		out.Items[i] = Request{EnrollmentRequest: r, TokenName: names[r.TokenID]}
	}
	return out, nil
}

// pending locks a request and checks it waits for a decision.
func (s *Service) pending(ctx context.Context, q *dbq.Queries, id uuid.UUID) (dbq.EnrollmentRequest, error) {
	row, err := q.EnrollRequestLock(ctx, id)
	if err != nil {
		return row, pg.NotFoundAs(err, errRequestNotFound())
	}
	if row.Status != StatusPending {
		return row, apperr.Conflict(fmt.Sprintf("The enrollment request is already %s.", row.Status)).WithDetail("status", row.Status)
	}
	return row, nil
}

// Approve approves a pending request (see approveTx). Guarded by enrollment:write;
// audited. Errors: resource.not_found, resource.conflict (decided already, host name
// taken in the environment).
func (s *Service) Approve(ctx context.Context, actor *authz.Principal, id uuid.UUID) (Request, error) {
	var out Request
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		row, err := s.pending(ctx, q, id)
		if err != nil {
			return err
		}
		tok, err := q.EnrollTokenGet(ctx, row.TokenID)
		if err != nil {
			return pg.Translate(err)
		}
		decided, err := s.approveTx(ctx, tx, actor, row, tok)
		out = Request{EnrollmentRequest: decided, TokenName: tok.Name}
		return err
	})
	return out, err
}

// approveTx creates the host of a request in its token's group, environment and tags,
// pins its host key, creates its certificate credential, signs its host certificate for
// its name and address and records the decision, inside tx (the first system info
// collection and scan wait for Installed: until then sshd does not trust the user CA). actor nil is an auto-approval (the system).
func (s *Service) approveTx(ctx context.Context, tx pgx.Tx, actor *authz.Principal, row dbq.EnrollmentRequest, tok dbq.EnrollmentToken) (dbq.EnrollmentRequest, error) {
	q := s.q.WithTx(tx)
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(row.HostKey))
	if err != nil {
		return row, fmt.Errorf("parse the host key of request %s: %w", row.ID, err)
	}
	h, err := s.hosts.CreateTx(ctx, tx, actor, host.CreateInput{
		Hostname: row.Hostname, IPAddress: row.Address.String(), Port: int(row.Port), Environment: tok.Environment,
		Tags: tok.Tags, GroupID: tok.GroupID, Username: tok.Username,
		Description: "Enrolled with token " + tok.Name + ".",
	})
	if err != nil {
		return row, err
	}
	keyID, err := uuid.NewV7()
	if err != nil {
		return row, apperr.Internal(err)
	}
	if _, err := q.HostSSHKeyTrustFirst(ctx, dbq.HostSSHKeyTrustFirstParams{ID: keyID, HostID: h.ID, KeyType: pub.Type(),
		FingerprintSha256: row.HostKeyFingerprint, PublicKey: row.HostKey}); err != nil {
		return row, pg.Translate(err)
	}
	if s.opts.Credential != nil {
		if err := s.opts.Credential(ctx, tx, actor, h.ID, h.Hostname, tok.Username); err != nil {
			return row, err
		}
	}
	principals := []string{h.Hostname}
	if a := row.Address.String(); a != h.Hostname {
		principals = append(principals, a)
	}
	cert, err := s.ca.SignHostCertTx(ctx, tx, actor, h.ID, pub, principals, sshca.DefaultHostCertValidity)
	if err != nil {
		return row, err
	}
	by := actor.Actor().String()
	decided, err := q.EnrollRequestDecide(ctx, dbq.EnrollRequestDecideParams{Status: StatusApproved, DecidedBy: &by, Now: s.now(),
		HostID: &h.ID, CertificateID: &cert.ID, ID: row.ID})
	if err != nil {
		return row, pg.Translate(err)
	}
	detail := map[string]any{"host_id": h.ID.String(), "hostname": h.Hostname, "certificate_id": cert.ID.String(),
		"host_key_fingerprint": row.HostKeyFingerprint, "token_id": tok.ID.String(), "auto_approved": actor == nil}
	return decided, s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionEnrollApproved, "enrollment_request", row.ID.String(), detail))
}

// Installed records that the host of the approved request whose poll secret is secret
// installed its certificate and reloaded sshd, and queues its first system info
// collection and compliance scan; repeating it changes nothing. Anonymous (the secret
// authorizes it); rate-limited per client address; audited. Errors:
// rate_limit.exceeded, resource.not_found (unknown secret), resource.conflict (not
// approved).
func (s *Service) Installed(ctx context.Context, secret, clientAddr string) (Status, error) {
	if err := limited(s.status, clientAddr); err != nil {
		return Status{}, err
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		row, err := q.EnrollRequestInstalled(ctx, dbq.EnrollRequestInstalledParams{Now: s.now(), PollSecretHash: hash(secret)})
		if err != nil {
			if err := pg.IgnoreNotFound(err); err != nil {
				return err
			}
			row, err := q.EnrollRequestByPollHash(ctx, hash(secret))
			if err != nil {
				return pg.NotFoundAs(err, errRequestNotFound())
			}
			if row.Status != StatusApproved {
				return apperr.Conflict(fmt.Sprintf("The enrollment request is %s, not approved.", row.Status)).WithDetail("status", row.Status)
			}
			return nil // reported already
		}
		detail := map[string]any{"hostname": row.Hostname}
		if row.HostID != nil {
			detail["host_id"] = row.HostID.String()
			if _, err := s.intel.EnqueueSystemInfoTx(ctx, tx, *row.HostID); err != nil {
				return err
			}
			scanID, err := s.scans.RescanTx(ctx, tx, *row.HostID, nil, ScanTrigger)
			if err != nil {
				return err
			}
			if scanID != uuid.Nil {
				detail["scan_id"] = scanID.String()
			}
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, nil, audit.ActionEnrollInstalled, "enrollment_request", row.ID.String(), detail))
	})
	if err != nil {
		return Status{}, err
	}
	return s.readStatus(ctx, secret)
}

// Deny denies a pending request with a reason the host's script shows. Guarded by
// enrollment:write; audited. Errors: resource.not_found, resource.conflict (decided
// already), validation_failed (reason).
func (s *Service) Deny(ctx context.Context, actor *authz.Principal, id uuid.UUID, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return Request{}, apperr.Invalid("reason", "reason must be 1 to 500 characters")
	}
	var out Request
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		row, err := s.pending(ctx, q, id)
		if err != nil {
			return err
		}
		tok, err := q.EnrollTokenGet(ctx, row.TokenID)
		if err != nil {
			return pg.Translate(err)
		}
		by := actor.Actor().String()
		decided, err := q.EnrollRequestDecide(ctx, dbq.EnrollRequestDecideParams{Status: StatusDenied, DecidedBy: &by, Now: s.now(),
			DenyReason: &reason, ID: row.ID})
		if err != nil {
			return pg.Translate(err)
		}
		out = Request{EnrollmentRequest: decided, TokenName: tok.Name}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionEnrollDenied, "enrollment_request", id.String(), map[string]any{
			"hostname": row.Hostname, "host_key_fingerprint": row.HostKeyFingerprint, "reason": reason}))
	})
	return out, err
}
