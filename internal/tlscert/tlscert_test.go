package tlscert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/logging/logtest"
)

const testHost = "ow-test-host"

// readLeaf parses the first certificate in a PEM file.
func readLeaf(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, path)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return leaf
}

// perm returns the permission bits of path.
func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

// snapshot returns the contents of every managed file, to prove a call left
// them alone.
func snapshot(t *testing.T, f Files) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, p := range []string{f.CACert, f.CAKey, f.ServerCert, f.ServerKey} {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		out[p] = string(data)
	}
	return out
}

// ensure runs Ensure in a fresh directory and fails the test on error.
func ensure(t testing.TB, extra ...string) Files {
	t.Helper()
	files, err := Ensure(filepath.Join(t.TempDir(), "tls"), testHost, extra)
	require.NoError(t, err)
	return files
}

func TestEnsureCreatesFiles(t *testing.T) {
	t.Parallel()
	files := ensure(t, "ow.example.com", "10.0.0.5")
	require.True(t, files.Created)
	require.True(t, files.CACreated)

	require.Equal(t, fs.FileMode(0o700), perm(t, filepath.Dir(files.CACert)))
	require.Equal(t, fs.FileMode(0o600), perm(t, files.CAKey))
	require.Equal(t, fs.FileMode(0o600), perm(t, files.ServerKey))
	require.Equal(t, fs.FileMode(0o644), perm(t, files.CACert))
	require.Equal(t, fs.FileMode(0o644), perm(t, files.ServerCert))

	ca := readLeaf(t, files.CACert)
	require.True(t, ca.IsCA)
	require.Equal(t, "OpenWatch local CA "+testHost, ca.Subject.CommonName)
	require.Equal(t, elliptic.P256(), ca.PublicKey.(*ecdsa.PublicKey).Curve)
	require.WithinDuration(t, time.Now().AddDate(10, 0, 0), ca.NotAfter, time.Minute)

	leaf := readLeaf(t, files.ServerCert)
	require.False(t, leaf.IsCA)
	require.Equal(t, elliptic.P256(), leaf.PublicKey.(*ecdsa.PublicKey).Curve)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	require.WithinDuration(t, time.Now().Add(397*24*time.Hour), leaf.NotAfter, time.Minute)
	require.ElementsMatch(t, []string{"localhost", testHost, "ow.example.com"}, leaf.DNSNames)
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	require.ElementsMatch(t, []string{"127.0.0.1", "::1", "10.0.0.5"}, ips)

	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"localhost", testHost, "ow.example.com", "127.0.0.1", "::1", "10.0.0.5"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots})
		require.NoError(t, err, name)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots})
	require.Error(t, err)

	_, err = tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	require.NoError(t, err)
}

func TestEnsureSecondCallIsNoOp(t *testing.T) {
	t.Parallel()
	first := ensure(t, "ow.example.com")
	before := snapshot(t, first)

	second, err := Ensure(filepath.Dir(first.CACert), testHost, []string{"OW.example.com."})
	require.NoError(t, err)
	require.False(t, second.Created)
	require.False(t, second.CACreated)
	require.Equal(t, before, snapshot(t, second))
}

func TestEnsureRenews(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		extra      []string
		damage     func(t *testing.T, f Files)
		wantSameCA bool
		wantName   string
	}{
		{
			name:       "expiringServerCertRenewedWithSameCA",
			damage:     func(t *testing.T, f Files) { writeServerCert(t, f, time.Now().Add(10*24*time.Hour)) },
			wantSameCA: true,
		},
		{
			name:       "missingNameAddsItWithSameCA",
			extra:      []string{"new.example.com"},
			damage:     func(t *testing.T, f Files) {},
			wantSameCA: true,
			wantName:   "new.example.com",
		},
		{
			name:       "missingServerKeyRenewedWithSameCA",
			damage:     func(t *testing.T, f Files) { require.NoError(t, os.Remove(f.ServerKey)) },
			wantSameCA: true,
		},
		{
			name: "garbageServerCertRenewedWithSameCA",
			damage: func(t *testing.T, f Files) {
				require.NoError(t, os.WriteFile(f.ServerCert, []byte("garbage"), 0o644))
			},
			wantSameCA: true,
		},
		{
			name:   "missingCAKeyCreatesNewCA",
			damage: func(t *testing.T, f Files) { require.NoError(t, os.Remove(f.CAKey)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := ensure(t)
			caBefore, err := os.ReadFile(first.CACert)
			require.NoError(t, err)
			tt.damage(t, first)

			got, err := Ensure(filepath.Dir(first.CACert), testHost, tt.extra)
			require.NoError(t, err)
			require.True(t, got.Created)
			require.Equal(t, !tt.wantSameCA, got.CACreated)
			caAfter, err := os.ReadFile(got.CACert)
			require.NoError(t, err)
			require.Equal(t, tt.wantSameCA, bytes.Equal(caBefore, caAfter))

			leaf := readLeaf(t, got.ServerCert)
			require.True(t, leaf.NotAfter.After(time.Now().Add(396*24*time.Hour)))
			roots := x509.NewCertPool()
			roots.AddCert(readLeaf(t, got.CACert))
			_, err = leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots})
			require.NoError(t, err)
			if tt.wantName != "" {
				require.Contains(t, leaf.DNSNames, tt.wantName)
			}
			require.Equal(t, fs.FileMode(0o600), perm(t, got.ServerKey))
		})
	}
}

func TestEnsureRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		damage  func(t *testing.T, f Files)
		wantErr string
	}{
		{
			name:    "worldReadableServerKey",
			damage:  func(t *testing.T, f Files) { require.NoError(t, os.Chmod(f.ServerKey, 0o644)) },
			wantErr: "refusing to use private key",
		},
		{
			name:    "groupReadableCAKey",
			damage:  func(t *testing.T, f Files) { require.NoError(t, os.Chmod(f.CAKey, 0o640)) },
			wantErr: "lets group or others read it",
		},
		{
			name: "corruptCACert",
			damage: func(t *testing.T, f Files) {
				require.NoError(t, os.WriteFile(f.CACert, []byte("garbage"), 0o644))
			},
			wantErr: "remove both to generate a new CA",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := ensure(t)
			tt.damage(t, first)
			before := snapshot(t, first)

			_, err := Ensure(filepath.Dir(first.CACert), testHost, nil)
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, before, snapshot(t, first))
		})
	}
}

// writeServerCert replaces the server pair in f with one signed by f's CA
// that expires at notAfter.
func writeServerCert(t *testing.T, f Files, notAfter time.Time) {
	t.Helper()
	caPair, err := tls.LoadX509KeyPair(f.CACert, f.CAKey)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := randomSerial()
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: testHost},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", testHost},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caPair.Leaf, key.Public(), caPair.PrivateKey.(crypto.Signer))
	require.NoError(t, err)
	keyPEM, err := encodeKey(key)
	require.NoError(t, err)
	require.NoError(t, writePair(f.ServerCert, f.ServerKey, encodeCert(der), keyPEM))
}

// fakeClock is a settable clock for the Reloader.
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.nanos.Add(int64(d)) }

// replacePair copies the server pair of src over the one in dst, each file
// by rename, as a certificate renewal tool would.
func replacePair(t *testing.T, dst, src Files) {
	t.Helper()
	certPEM, err := os.ReadFile(src.ServerCert)
	require.NoError(t, err)
	keyPEM, err := os.ReadFile(src.ServerKey)
	require.NoError(t, err)
	require.NoError(t, writePair(dst.ServerCert, dst.ServerKey, certPEM, keyPEM))
}

// serving returns the serial number of the certificate r serves now.
func serving(t *testing.T, r *Reloader) string {
	t.Helper()
	cert, err := r.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
	require.NoError(t, err)
	return cert.Leaf.SerialNumber.String()
}

func TestReloader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replace  func(t *testing.T, dst Files) string // Returns the serial expected afterwards, "" for the original.
		wantLog  string
		stepBack bool
	}{
		{
			name: "replacedPairServedAfterInterval",
			replace: func(t *testing.T, dst Files) string {
				src := ensure(t)
				replacePair(t, dst, src)
				return readLeaf(t, src.ServerCert).SerialNumber.String()
			},
			wantLog: "tls certificate reloaded",
		},
		{
			name: "replacedPairServedAfterClockStepsBack",
			replace: func(t *testing.T, dst Files) string {
				src := ensure(t)
				replacePair(t, dst, src)
				return readLeaf(t, src.ServerCert).SerialNumber.String()
			},
			stepBack: true,
			wantLog:  "tls certificate reloaded",
		},
		{
			name: "garbagePairKeepsPrevious",
			replace: func(t *testing.T, dst Files) string {
				require.NoError(t, writePair(dst.ServerCert, dst.ServerKey, []byte("garbage"), []byte("garbage")))
				return ""
			},
			wantLog: "tls certificate reload failed",
		},
		{
			name: "mismatchedKeyKeepsPrevious",
			replace: func(t *testing.T, dst Files) string {
				src := ensure(t)
				keyPEM, err := os.ReadFile(src.ServerKey)
				require.NoError(t, err)
				require.NoError(t, writeFileAtomic(dst.ServerKey, keyPEM, 0o600))
				return ""
			},
			wantLog: "tls certificate reload failed",
		},
		{
			name: "removedFileKeepsPrevious",
			replace: func(t *testing.T, dst Files) string {
				require.NoError(t, os.Remove(dst.ServerCert))
				return ""
			},
			wantLog: "tls certificate files unreadable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := ensure(t)
			clock := newFakeClock()
			var logs logtest.Buffer
			r, err := NewReloader(files.ServerCert, files.ServerKey, slog.New(slog.NewTextHandler(&logs, nil)), clock.now)
			require.NoError(t, err)
			original := serving(t, r)
			require.Equal(t, readLeaf(t, files.ServerCert).SerialNumber.String(), original)

			want := tt.replace(t, files)
			if want == "" {
				want = original
			}
			require.Equal(t, original, serving(t, r), "files are not looked at again within the interval")

			if tt.stepBack {
				clock.advance(-time.Hour)
			} else {
				clock.advance(checkInterval + time.Millisecond)
			}
			require.Equal(t, want, serving(t, r))
			require.Contains(t, logs.String(), tt.wantLog)
		})
	}
}

func TestReloaderRecoversAfterBrokenPairIsFixed(t *testing.T) {
	t.Parallel()
	files := ensure(t)
	clock := newFakeClock()
	r, err := NewReloader(files.ServerCert, files.ServerKey, nil, clock.now)
	require.NoError(t, err)
	original := serving(t, r)

	require.NoError(t, writeFileAtomic(files.ServerCert, []byte("garbage"), 0o644))
	clock.advance(2 * checkInterval)
	require.Equal(t, original, serving(t, r))

	src := ensure(t)
	replacePair(t, files, src)
	clock.advance(2 * checkInterval)
	require.Equal(t, readLeaf(t, src.ServerCert).SerialNumber.String(), serving(t, r))
}

func TestReloaderConcurrentHandshakesDuringReload(t *testing.T) {
	t.Parallel()
	files := ensure(t)
	clock := newFakeClock()
	r, err := NewReloader(files.ServerCert, files.ServerKey, nil, clock.now)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				cert, err := r.GetCertificate(nil)
				if err != nil || cert == nil || cert.Leaf == nil {
					t.Error("GetCertificate returned no certificate")
					return
				}
			}
		})
	}
	for range 5 {
		replacePair(t, files, ensure(t))
		clock.advance(2 * checkInterval)
	}
	wg.Wait()
}

func TestNewReloaderRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(t *testing.T, f Files)
	}{
		{"garbageCertificate", func(t *testing.T, f Files) {
			require.NoError(t, os.WriteFile(f.ServerCert, []byte("garbage"), 0o644))
		}},
		{"missingKey", func(t *testing.T, f Files) { require.NoError(t, os.Remove(f.ServerKey)) }},
		{"keyOfAnotherCertificate", func(t *testing.T, f Files) {
			require.NoError(t, os.Rename(f.CAKey, f.ServerKey))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := ensure(t)
			tt.damage(t, files)
			_, err := NewReloader(files.ServerCert, files.ServerKey, nil, nil)
			require.Error(t, err)
		})
	}
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	files := ensure(t)
	r, err := NewReloader(files.ServerCert, files.ServerKey, nil, nil)
	require.NoError(t, err)
	cfg := r.TLSConfig()
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	require.Equal(t, []string{"h2", "http/1.1"}, cfg.NextProtos)
	require.NotNil(t, cfg.GetCertificate)
}

func TestTLSHandshakeVerifiesAgainstCA(t *testing.T) {
	t.Parallel()
	files := ensure(t)
	r, err := NewReloader(files.ServerCert, files.ServerKey, nil, nil)
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		TLSConfig:         r.TLSConfig(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		require.True(t, errors.Is(<-served, http.ErrServerClosed))
	})

	caPEM, err := os.ReadFile(files.CACert)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		},
	}
	t.Cleanup(client.CloseIdleConnections)

	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "ok", string(body))
	require.Equal(t, 2, resp.ProtoMajor)
	require.NotEmpty(t, resp.TLS.VerifiedChains)
	require.Equal(t, readLeaf(t, files.ServerCert).SerialNumber, resp.TLS.PeerCertificates[0].SerialNumber)
}

func BenchmarkGetCertificate(b *testing.B) {
	files := ensure(b)
	r, err := NewReloader(files.ServerCert, files.ServerKey, nil, nil)
	require.NoError(b, err)
	hello := &tls.ClientHelloInfo{ServerName: "localhost"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.GetCertificate(hello); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
