package mfa

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Issuer is the issuer OpenWatch names in provisioning URIs; authenticator apps show it
// next to the account.
const Issuer = "OpenWatch"

const (
	period     = 30 // seconds per TOTP step
	digits     = otp.DigitsSix
	skew       = 1  // steps accepted either side of the current one
	secretSize = 20 // bytes; 160 bits, the HMAC-SHA1 block the RFC 4226 recommends
)

var (
	// ErrInvalidCode reports a TOTP code that is malformed or matches no accepted step.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrReplayed reports a correct TOTP code whose step was already used: the code, or a
	// later one, has been accepted before.
	ErrReplayed = errors.New("mfa: code already used")
)

// NewSecret creates a random TOTP secret (base32, no padding) for account and its
// otpauth:// provisioning URI, which names issuer and account and fixes SHA-1, 6 digits
// and a 30-second period. Pass Issuer unless there is a reason not to. The secret must be
// stored like a password-equivalent: whoever holds it can produce codes.
func NewSecret(issuer, account string) (secret string, provisioningURI string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      period,
		SecretSize:  secretSize,
		Digits:      digits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("generate totp key: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// Verify checks a 6-digit code against secret at now, accepting the step before and after
// the current one. lastStep is the last step accepted for this account (0 if none); a
// code whose step is not after lastStep is refused with ErrReplayed. On success Verify
// returns the step to store as the account's new lastStep.
//
// Verify returns ErrInvalidCode when code is not exactly six ASCII digits or matches no
// step in the window, ErrReplayed as above, and a wrapped error when secret is malformed.
// Every candidate code is computed and compared in constant time.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	if !isCode(code) {
		return 0, ErrInvalidCode
	}
	current := now.Unix() / period
	var matched, replayed bool
	for s := current - skew; s <= current+skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{
			Digits:    digits,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, fmt.Errorf("generate totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		// The loop runs upwards, so the latest matching step wins: once accepted, the same
		// code string is refused for the rest of its window even if it collides with a
		// neighbouring step.
		if s > lastStep {
			step, matched = s, true
		} else {
			replayed = true
		}
	}
	switch {
	case matched:
		return step, nil
	case replayed:
		return 0, ErrReplayed
	default:
		return 0, ErrInvalidCode
	}
}

// isCode reports whether code is exactly six ASCII digits.
func isCode(code string) bool {
	if len(code) != digits.Length() {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
