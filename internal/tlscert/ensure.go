package tlscert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the directory Ensure manages.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

const (
	// caLifetimeYears is how long a generated CA is valid.
	caLifetimeYears = 10
	// serverLifetime is how long a generated server certificate is valid:
	// the longest lifetime browsers accept for a publicly trusted
	// certificate, which keeps clients that apply the same rule content.
	serverLifetime = 397 * 24 * time.Hour
	// renewBefore is how long before expiry Ensure replaces a certificate.
	renewBefore = 30 * 24 * time.Hour
	// backdate moves NotBefore into the past so a client whose clock runs a
	// little slow still accepts a fresh certificate.
	backdate = time.Hour
	// keyMode and certMode are the permissions of written files.
	keyMode  fs.FileMode = 0o600
	certMode fs.FileMode = 0o644
	dirMode  fs.FileMode = 0o700
)

// Files names the four files Ensure manages and says what it did.
type Files struct {
	CACert, CAKey, ServerCert, ServerKey string
	// Created is true when this call wrote a new server certificate.
	Created bool
	// CACreated is true when this call also wrote a new CA, which clients
	// must be given to trust again.
	CACreated bool
}

// Ensure makes sure dir holds ca.crt, ca.key, server.crt and server.key.
//
// When the CA certificate or key is missing, or the CA expires within 30
// days, it creates a new CA (ECDSA P-256, valid 10 years, common name
// "OpenWatch local CA <hostname>"). When the server pair is missing or does
// not parse, the certificate expires within 30 days, is not signed by the
// CA, or lacks one of the wanted names, it creates a new server certificate
// signed by the CA (ECDSA P-256, valid 397 days, server authentication only).
// The wanted names are localhost, 127.0.0.1, ::1, hostname (normally from
// os.Hostname) and extraNames, each either a DNS name or an IP address.
//
// Keys are written 0600 and certificates 0644, each through a temporary file
// and a rename; dir is created 0700. Ensure refuses to use an existing key
// file that group or others can access, and refuses to replace a CA whose
// files exist but do not parse, since clients may trust it.
func Ensure(dir string, hostname string, extraNames []string) (Files, error) {
	files := Files{
		CACert:     filepath.Join(dir, CACertFile),
		CAKey:      filepath.Join(dir, CAKeyFile),
		ServerCert: filepath.Join(dir, ServerCertFile),
		ServerKey:  filepath.Join(dir, ServerKeyFile),
	}
	if err := ensureDir(dir); err != nil {
		return files, err
	}
	for _, key := range []string{files.CAKey, files.ServerKey} {
		if err := checkKeyMode(key); err != nil {
			return files, err
		}
	}

	now := time.Now()
	dnsNames, ips := wantedNames(hostname, extraNames)

	ca, err := loadCA(files, now)
	if err != nil {
		return files, err
	}
	if ca == nil {
		ca, err = newCA(hostname, now)
		if err != nil {
			return files, err
		}
		if err := writePair(files.CACert, files.CAKey, ca.certPEM, ca.keyPEM); err != nil {
			return files, err
		}
		files.CACreated = true
	}

	if !files.CACreated && serverCurrent(files, ca, dnsNames, ips, now) {
		return files, nil
	}
	certPEM, keyPEM, err := newServer(ca, hostname, dnsNames, ips, now)
	if err != nil {
		return files, err
	}
	if err := writePair(files.ServerCert, files.ServerKey, certPEM, keyPEM); err != nil {
		return files, err
	}
	files.Created = true
	return files, nil
}

// ensureDir creates dir with mode 0700 if it does not exist. An existing
// directory keeps its mode.
func ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("tlscert: create directory: %w", err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("tlscert: create directory: %w", err)
	}
	return nil
}

// checkKeyMode returns an error when the key file at path exists and group
// or others have any access to it. A missing file is fine.
func checkKeyMode(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tlscert: check key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("tlscert: refusing to use private key %s: mode %#o lets group or others read it; run chmod 600 on it", path, perm)
	}
	return nil
}

// wantedNames returns the DNS names and IP addresses a server certificate
// must cover, without duplicates.
func wantedNames(hostname string, extraNames []string) ([]string, []net.IP) {
	dnsNames := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, name := range append([]string{hostname}, extraNames...) {
		name = strings.ToLower(strings.TrimSuffix(strings.Trim(strings.TrimSpace(name), "[]"), "."))
		if name == "" {
			continue
		}
		if ip := net.ParseIP(name); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if !slices.Contains(dnsNames, name) {
			dnsNames = append(dnsNames, name)
		}
	}
	return dnsNames, ips
}

// authority is a CA certificate with its signing key.
type authority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// loadCA reads the CA pair. It returns nil without error when either file is
// missing or the CA expires within renewBefore, so that a new one is made.
func loadCA(files Files, now time.Time) (*authority, error) {
	certPEM, err := os.ReadFile(files.CACert)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlscert: read CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(files.CAKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlscert: read CA key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tlscert: CA pair %s and %s is unusable (remove both to generate a new CA): %w", files.CACert, files.CAKey, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !pair.Leaf.IsCA {
		return nil, fmt.Errorf("tlscert: %s is not a CA certificate (remove it and %s to generate a new CA)", files.CACert, files.CAKey)
	}
	if now.Add(renewBefore).After(pair.Leaf.NotAfter) {
		return nil, nil
	}
	return &authority{cert: pair.Leaf, key: signer, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// newCA creates a self-signed CA.
func newCA(hostname string, now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlscert: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := strings.TrimSpace("OpenWatch local CA " + hostname)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"OpenWatch"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caLifetimeYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tlscert: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlscert: parse CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

// serverCurrent reports whether the server pair on disk parses, is signed by
// ca, stays valid for more than renewBefore and covers every wanted name.
func serverCurrent(files Files, ca *authority, dnsNames []string, ips []net.IP, now time.Time) bool {
	certPEM, err := os.ReadFile(files.ServerCert)
	if err != nil {
		return false
	}
	keyPEM, err := os.ReadFile(files.ServerKey)
	if err != nil {
		return false
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	if now.Add(renewBefore).After(leaf.NotAfter) {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, err := leaf.Verify(opts); err != nil {
		return false
	}
	for _, name := range dnsNames {
		if !slices.ContainsFunc(leaf.DNSNames, func(have string) bool { return strings.EqualFold(have, name) }) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// newServer creates a server certificate for the given names, signed by ca.
func newServer(ca *authority, hostname string, dnsNames []string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	cn := hostname
	if cn == "" {
		cn = "localhost"
	}
	notAfter := now.Add(serverLifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"OpenWatch"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: create server certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("tlscert: generate serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

// encodeCert returns DER certificate bytes as PEM.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encodeKey returns a private key as PKCS #8 PEM.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlscert: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writePair writes a key and then its certificate, each atomically.
func writePair(certPath, keyPath string, certPEM, keyPEM []byte) error {
	if err := writeFileAtomic(keyPath, keyPEM, keyMode); err != nil {
		return err
	}
	return writeFileAtomic(certPath, certPEM, certMode)
}

// writeFileAtomic replaces path with data: it writes a temporary file in the
// same directory with the final mode, syncs it and renames it over path, so
// readers see the old contents or the new, never a mix.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir flushes a directory entry change to disk where the platform allows
// it; failure only weakens durability across a crash, so it is ignored.
func syncDir(dir string) {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
