package credential

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/apperr"
)

// The key types a credential may hold.
const (
	KeyTypeEd25519 = "ed25519"
	KeyTypeRSA     = "rsa"
	KeyTypeECDSA   = "ecdsa"
)

// maxCommentLen bounds the key comment stored in clear; a longer one is not kept.
const maxCommentLen = 1024

// keyInfo describes a parsed private key. It holds nothing secret.
type keyInfo struct {
	Type        string
	Bits        int
	Fingerprint string
	Comment     string
}

// The errors of parsePrivateKey, made afresh for each caller. None quotes the key or the
// passphrase, nor wraps a parser error that might.
func errKeyUnreadable() error {
	return apperr.Invalid("private_key",
		"The private key is not a PEM-encoded RSA, ECDSA or Ed25519 private key (OpenSSH, PKCS#1, PKCS#8 or SEC 1 format).")
}

func errKeyUnsupported() error {
	return apperr.Invalid("private_key",
		"The private key's type is not supported; use an Ed25519, ECDSA (P-256, P-384, P-521) or RSA key.")
}

func errPassphraseMissing() error {
	return apperr.Invalid("private_key_passphrase", "The private key is encrypted; private_key_passphrase is required.")
}

func errPassphraseWrong() error {
	return apperr.Invalid("private_key_passphrase", "The passphrase does not decrypt the private key.")
}

func errPassphraseUnused() error {
	return apperr.Invalid("private_key_passphrase", "The private key is not encrypted; leave private_key_passphrase empty.")
}

// parsePrivateKey reads a PEM private key, decrypting it with passphrase when it is
// encrypted, and describes it. Its errors are apperr Invalid values naming private_key or
// private_key_passphrase.
func parsePrivateKey(pemText, passphrase []byte) (keyInfo, error) {
	raw, err := ssh.ParseRawPrivateKey(pemText)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		if len(passphrase) == 0 {
			return keyInfo{}, errPassphraseMissing()
		}
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(pemText, passphrase)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return keyInfo{}, errPassphraseWrong()
		}
		if err != nil {
			return keyInfo{}, errKeyUnreadable()
		}
	case err != nil:
		return keyInfo{}, errKeyUnreadable()
	case len(passphrase) > 0:
		return keyInfo{}, errPassphraseUnused()
	}

	var info keyInfo
	switch k := raw.(type) {
	case *rsa.PrivateKey:
		info.Type, info.Bits = KeyTypeRSA, k.N.BitLen()
	case *ecdsa.PrivateKey:
		info.Type, info.Bits = KeyTypeECDSA, k.Curve.Params().BitSize
	case ed25519.PrivateKey, *ed25519.PrivateKey:
		info.Type, info.Bits = KeyTypeEd25519, 256
	default:
		return keyInfo{}, errKeyUnsupported()
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return keyInfo{}, errKeyUnsupported()
	}
	pub, err := ssh.NewPublicKey(signer.Public())
	if err != nil {
		// For example an ECDSA key on a curve SSH does not use.
		return keyInfo{}, errKeyUnsupported()
	}
	info.Fingerprint = ssh.FingerprintSHA256(pub)
	info.Comment = openSSHComment(pemText)
	return info, nil
}

// openSSHComment returns the comment of an unencrypted key in OpenSSH format (see
// PROTOCOL.key in OpenSSH), or "" when the key has none, is in another format, is
// encrypted (the comment is inside the encrypted part) or is not printable text.
func openSSHComment(pemText []byte) string {
	block, _ := pem.Decode(pemText)
	if block == nil || block.Type != "OPENSSH PRIVATE KEY" {
		return ""
	}
	rest, ok := bytes.CutPrefix(block.Bytes, []byte("openssh-key-v1\x00"))
	if !ok {
		return ""
	}
	var outer struct {
		CipherName   string
		KdfName      string
		KdfOpts      string
		NumKeys      uint32
		PubKey       []byte
		PrivKeyBlock []byte
		Rest         []byte `ssh:"rest"`
	}
	if err := ssh.Unmarshal(rest, &outer); err != nil || outer.CipherName != "none" || outer.NumKeys != 1 {
		return ""
	}
	var inner struct {
		Check1  uint32
		Check2  uint32
		Keytype string
		Rest    []byte `ssh:"rest"`
	}
	if err := ssh.Unmarshal(outer.PrivKeyBlock, &inner); err != nil {
		return ""
	}
	var comment string
	switch inner.Keytype {
	case ssh.KeyAlgoED25519:
		var k struct {
			Pub, Priv []byte
			Comment   string
			Pad       []byte `ssh:"rest"`
		}
		if ssh.Unmarshal(inner.Rest, &k) == nil {
			comment = k.Comment
		}
	case ssh.KeyAlgoRSA:
		var k struct {
			N, E, D, Iqmp, P, Q *big.Int
			Comment             string
			Pad                 []byte `ssh:"rest"`
		}
		if ssh.Unmarshal(inner.Rest, &k) == nil {
			comment = k.Comment
		}
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		var k struct {
			Curve   string
			Pub     []byte
			D       *big.Int
			Comment string
			Pad     []byte `ssh:"rest"`
		}
		if ssh.Unmarshal(inner.Rest, &k) == nil {
			comment = k.Comment
		}
	}
	if len(comment) > maxCommentLen || !utf8.ValidString(comment) || strings.ContainsRune(comment, 0) {
		return ""
	}
	return comment
}
