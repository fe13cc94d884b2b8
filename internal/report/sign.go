package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/gowebpki/jcs"
)

// Algorithm is the one signature algorithm of reports.
const Algorithm = "Ed25519"

// KeyID returns the key id of an Ed25519 public key: base64url (no padding) of the first
// 16 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// PublicKeyPEM returns pub as a PEM SubjectPublicKeyInfo, the form openssl reads.
func PublicKeyPEM(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(fmt.Sprintf("report: marshal Ed25519 public key: %v", err))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Signer signs report bytes with one key.
type Signer struct {
	KeyID   string
	Public  ed25519.PublicKey
	private ed25519.PrivateKey
}

// NewSigner returns the signer of priv.
func NewSigner(priv ed25519.PrivateKey) Signer {
	pub := priv.Public().(ed25519.PublicKey)
	return Signer{KeyID: KeyID(pub), Public: pub, private: priv}
}

// Sign returns the signature of msg.
func (s Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.private, msg) }

// Signature is the signature object of a JSON export.
type Signature struct {
	Alg       string `json:"alg"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	Value     string `json:"value"`
}

// Canonical returns the RFC 8785 canonical form of v's JSON encoding.
func Canonical(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalise report: %w", err)
	}
	return out, nil
}

var b64 = base64.StdEncoding.Strict()

// decodeB64 decodes standard padded base64 and insists the text is the one encoding of the
// bytes, so no other spelling of a value is accepted.
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// checkSignature verifies sig (base64) over msg with the public key pub (base64) named
// keyID: the key id must be pub's.
func checkSignature(alg, keyID, pub, sig string, msg []byte) (ed25519.PublicKey, error) {
	if alg != Algorithm {
		return nil, fmt.Errorf("unknown signature algorithm %q", alg)
	}
	rawPub, err := decodeB64(pub)
	if err != nil || len(rawPub) != ed25519.PublicKeySize {
		return nil, errors.New("the embedded public key is not a base64 Ed25519 public key")
	}
	if KeyID(rawPub) != keyID {
		return nil, fmt.Errorf("the key id %q is not the embedded public key's (%s)", keyID, KeyID(rawPub))
	}
	rawSig, err := decodeB64(sig)
	if err != nil || len(rawSig) != ed25519.SignatureSize {
		return nil, errors.New("the signature is not a base64 Ed25519 signature")
	}
	if !ed25519.Verify(rawPub, msg, rawSig) {
		return nil, errors.New("the signature does not match the content: the file was changed after it was signed")
	}
	return rawPub, nil
}

// equalKey reports whether two public keys are the same.
func equalKey(a, b ed25519.PublicKey) bool { return bytes.Equal(a, b) }
