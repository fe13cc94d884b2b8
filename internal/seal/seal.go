package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the format.
const (
	// KeySize is the length of every key: AES-256.
	KeySize   = 32
	nonceSize = 12
	tagSize   = 16
	// maxKeyIDLen bounds a key id, so a header is short and cheap to parse.
	maxKeyIDLen = 64
)

// prefix starts every sealed value; it names format version 1.
const prefix = "ow1:"

// adDomain starts the GCM associated data of format version 1.
const adDomain = "openwatch.seal.v1"

// The errors Open wraps; test for them with errors.Is.
var (
	// ErrMalformed: the input is not a sealed value of a known format.
	ErrMalformed = errors.New("not a sealed value")
	// ErrUnknownKey: the value names a key the key file does not hold.
	ErrUnknownKey = errors.New("sealed under a key that is not in the key file")
	// ErrNotAuthentic: the value does not decrypt under its key and associated data: it was
	// copied from another table, column or row, or altered.
	ErrNotAuthentic = errors.New("sealed value does not authenticate (wrong table, column or row, or tampered)")
)

// AD binds a ciphertext to where it is stored, so a ciphertext copied into another row,
// column or table fails to open.
type AD struct{ Table, Column, RowID string }

// Keyring holds the keys of a key file, one of them active. It is safe for concurrent use.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// newKeyring builds a keyring from raw keys; active must be one of them.
func newKeyring(active string, keys map[string][]byte) (*Keyring, error) {
	k := &Keyring{active: active, aeads: make(map[string]cipher.AEAD, len(keys))}
	for kid, key := range keys {
		if !validKeyID(kid) {
			return nil, fmt.Errorf("key id %q is not 1 to %d letters, digits, '-' or '_'", kid, maxKeyIDLen)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("key %q is %d bytes, want %d", kid, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		k.aeads[kid] = aead
	}
	if _, ok := k.aeads[active]; !ok {
		return nil, fmt.Errorf("active key %q is not among the keys", active)
	}
	return k, nil
}

// ActiveKeyID returns the id of the key Seal uses.
func (k *Keyring) ActiveKeyID() string { return k.active }

// Seal encrypts plaintext under the active key, bound to ad.
func (k *Keyring) Seal(plaintext []byte, ad AD) ([]byte, error) {
	aead := k.aeads[k.active]
	out := make([]byte, 0, len(prefix)+len(k.active)+1+nonceSize+len(plaintext)+tagSize)
	out = append(out, prefix...)
	out = append(out, k.active...)
	out = append(out, ':')
	nonce := out[len(out) : len(out)+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: read random nonce: %w", err)
	}
	out = out[:len(out)+nonceSize]
	return aead.Seal(out, nonce, plaintext, associatedData(k.active, ad)), nil
}

// Open decrypts a value made by Seal with the same ad. It fails with an error wrapping
// ErrMalformed, ErrUnknownKey or ErrNotAuthentic, and never panics.
func (k *Keyring) Open(sealed []byte, ad AD) ([]byte, error) {
	rest, ok := bytes.CutPrefix(sealed, []byte(prefix))
	if !ok {
		return nil, fmt.Errorf("open sealed value: %w: missing %q prefix", ErrMalformed, prefix)
	}
	kidBytes, body, ok := bytes.Cut(rest, []byte{':'})
	if !ok || !validKeyID(string(kidBytes)) {
		return nil, fmt.Errorf("open sealed value: %w: bad key id", ErrMalformed)
	}
	if len(body) < nonceSize+tagSize {
		return nil, fmt.Errorf("open sealed value: %w: too short", ErrMalformed)
	}
	kid := string(kidBytes)
	aead, ok := k.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("open sealed value: key %q: %w", kid, ErrUnknownKey)
	}
	plaintext, err := aead.Open(nil, body[:nonceSize], body[nonceSize:], associatedData(kid, ad))
	if err != nil {
		return nil, fmt.Errorf("open sealed value in %s.%s: %w", ad.Table, ad.Column, ErrNotAuthentic)
	}
	return plaintext, nil
}

// associatedData encodes the format, the key id and ad unambiguously: every part is
// prefixed with its length.
func associatedData(kid string, ad AD) []byte {
	parts := [...]string{adDomain, kid, ad.Table, ad.Column, ad.RowID}
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// validKeyID reports whether kid is 1 to 64 characters of [A-Za-z0-9_-].
func validKeyID(kid string) bool {
	if len(kid) == 0 || len(kid) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
