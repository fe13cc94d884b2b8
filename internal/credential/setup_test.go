package credential_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/seal"
)

// bundle is what most tests need: a fresh database, a key file, an audit writer and the
// service, with a clock that moves one second per reading.
type bundle struct {
	ctx     context.Context
	pool    *pgxpool.Pool
	keyPath string
	keyring *seal.Keyring
	svc     *credential.Service
	actor   *authz.Principal
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	keyPath := filepath.Join(t.TempDir(), "seal.json")
	keyring, err := seal.LoadOrCreate(keyPath)
	require.NoError(t, err)
	key, err := audit.LoadOrCreateKey(ctx, pool, keyring)
	require.NoError(t, err)
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	w := audit.NewWriter(pool, key, c.now)
	return &bundle{
		ctx: ctx, pool: pool, keyPath: keyPath, keyring: keyring,
		svc:   credential.NewService(pool, keyring, w, c.now),
		actor: &authz.Principal{UserID: uuid.MustParse("0190a3f4-0000-7000-8000-00000000a11c"), Username: "alice"},
	}
}

// clock is a fake clock that moves one second each time it is read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// host inserts a live host and returns its id.
func (b *bundle) host(t testing.TB) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	_, err := b.pool.Exec(b.ctx, `INSERT INTO hosts (id, hostname, ip_address) VALUES ($1, $2, '192.0.2.10')`,
		id, "host-"+id.String()+".example.com")
	require.NoError(t, err)
	return id
}

// deleteHost soft-deletes a host.
func (b *bundle) deleteHost(t testing.TB, id uuid.UUID) {
	t.Helper()
	_, err := b.pool.Exec(b.ctx, `UPDATE hosts SET deleted_at = now() WHERE id = $1`, id)
	require.NoError(t, err)
}

// create creates a credential and fails the test on an error.
func (b *bundle) create(t testing.TB, in credential.CreateInput) credential.Credential {
	t.Helper()
	c, err := b.svc.Create(b.ctx, b.actor, in)
	require.NoError(t, err)
	return c
}

// auditEvent is one stored audit event, as much as tests look at.
type auditEvent struct {
	Action     string
	ResourceID string
	Detail     string
}

// auditEvents returns the stored audit events in chain order.
func (b *bundle) auditEvents(t testing.TB) []auditEvent {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT action, coalesce(resource_id, ''), detail::text FROM audit_events ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []auditEvent
	for rows.Next() {
		var e auditEvent
		require.NoError(t, rows.Scan(&e.Action, &e.ResourceID, &e.Detail))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

// testKey is a private key made for a test, with what the service should report of it.
type testKey struct {
	PEM         string
	Type        string
	Bits        int
	Fingerprint string
	Comment     string
}

// keyFormat says how newKey encodes a key.
type keyFormat int

const (
	openSSH keyFormat = iota
	openSSHEncrypted
	legacyPEM // PKCS#1 for RSA, SEC 1 for ECDSA, PKCS#8 for Ed25519
)

// newKey generates a key of type kind ("ed25519", "rsa2048", "ecdsa256", "ecdsa384") and
// encodes it in format, with comment (OpenSSH formats) and passphrase (encrypted format).
func newKey(t testing.TB, kind string, format keyFormat, comment, passphrase string) testKey {
	t.Helper()
	var priv crypto.Signer
	var k testKey
	var err error
	switch kind {
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		k.Type, k.Bits = credential.KeyTypeEd25519, 256
	case "rsa2048":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
		k.Type, k.Bits = credential.KeyTypeRSA, 2048
	case "ecdsa256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k.Type, k.Bits = credential.KeyTypeECDSA, 256
	case "ecdsa384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		k.Type, k.Bits = credential.KeyTypeECDSA, 384
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	require.NoError(t, err)
	pub, err := ssh.NewPublicKey(priv.Public())
	require.NoError(t, err)
	k.Fingerprint = ssh.FingerprintSHA256(pub)

	var block *pem.Block
	switch format {
	case openSSH:
		block, err = ssh.MarshalPrivateKey(priv, comment)
		k.Comment = comment
	case openSSHEncrypted:
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, comment, []byte(passphrase))
	case legacyPEM:
		switch p := priv.(type) {
		case *rsa.PrivateKey:
			block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(p)}
		case *ecdsa.PrivateKey:
			der, derr := x509.MarshalECPrivateKey(p)
			err = derr
			block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
		default:
			der, derr := x509.MarshalPKCS8PrivateKey(priv)
			err = derr
			block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		}
	}
	require.NoError(t, err)
	k.PEM = string(pem.EncodeToMemory(block))
	return k
}

// requireInvalid asserts that err is a validation failure naming field.
func requireInvalid(t testing.TB, err error, field string) {
	t.Helper()
	require.Error(t, err)
	var ae *apperr.Error
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, apperr.CodeValidationFailed, ae.Code, "%v", err)
	require.Equal(t, field, ae.Detail["field"], "%v", err)
}

// requireCode asserts that err carries code.
func requireCode(t testing.TB, err error, code apperr.Code, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.True(t, apperr.Is(err, code), "want %s, got %v %v", code, err, msgAndArgs)
}

func ptr[T any](v T) *T { return &v }
