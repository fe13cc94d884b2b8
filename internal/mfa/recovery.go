package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode"
)

const (
	// RecoveryCodeCount is how many recovery codes NewRecoveryCodes issues.
	RecoveryCodeCount = 10

	// recoveryAlphabet is Crockford's base32 in lower case: no i, l, o or u, so nothing
	// reads as anything else once o, i and l are folded onto 0, 1 and 1. Its 32 symbols
	// make each character exactly 5 bits.
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen      = 12 // characters; 60 bits
	recoveryGroup    = 4  // characters between dashes in the displayed form
)

// NewRecoveryCodes returns RecoveryCodeCount distinct recovery codes, formatted for
// display like "k7wq-3hzp-x2mv", and the SHA-256 digest of each (in the same order) to
// store. Show the codes once; keep only the hashes.
func NewRecoveryCodes() (codes []string, hashes [][]byte, err error) {
	codes = make([]string, 0, RecoveryCodeCount)
	hashes = make([][]byte, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	raw := make([]byte, recoveryLen)
	for len(codes) < RecoveryCodeCount {
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, fmt.Errorf("read random: %w", err)
		}
		var b strings.Builder
		for i, r := range raw {
			if i > 0 && i%recoveryGroup == 0 {
				b.WriteByte('-')
			}
			// 32 divides 256, so masking keeps every symbol equally likely.
			b.WriteByte(recoveryAlphabet[r&31])
		}
		code := b.String()
		norm := normaliseRecoveryCode(code)
		if seen[norm] {
			continue
		}
		seen[norm] = true
		codes = append(codes, code)
		hashes = append(hashes, hashNormalised(norm))
	}
	return codes, hashes, nil
}

// HashRecoveryCode returns the SHA-256 digest of code after normalisation: lower case,
// white space and dashes removed, o read as 0 and i and l as 1. It is what NewRecoveryCodes
// returns for the codes it issues and what to look up when a user enters one.
func HashRecoveryCode(code string) []byte {
	return hashNormalised(normaliseRecoveryCode(code))
}

// MatchRecoveryCode reports which of hashes, if any, belongs to code. Every hash is
// compared in constant time, so the time taken does not reveal how close a guess came.
// It returns -1 when none matches.
func MatchRecoveryCode(code string, hashes [][]byte) int {
	h := HashRecoveryCode(code)
	found := -1
	for i, want := range hashes {
		if subtle.ConstantTimeCompare(h, want) == 1 {
			found = i
		}
	}
	return found
}

// LooksLikeRecoveryCode reports whether s has the shape of a recovery code (after the
// normalisation HashRecoveryCode applies), as opposed to a TOTP code. It says nothing
// about whether s is a valid code for anyone.
func LooksLikeRecoveryCode(s string) bool {
	norm := normaliseRecoveryCode(s)
	if len(norm) != recoveryLen {
		return false
	}
	for i := 0; i < len(norm); i++ {
		if strings.IndexByte(recoveryAlphabet, norm[i]) < 0 {
			return false
		}
	}
	return true
}

// normaliseRecoveryCode lower-cases s, drops white space and dashes, and folds the
// look-alikes o, i and l onto 0, 1 and 1.
func normaliseRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch r = unicode.ToLower(r); {
		case r == '-' || unicode.IsSpace(r):
			return -1
		case r == 'o':
			return '0'
		case r == 'i' || r == 'l':
			return '1'
		}
		return r
	}, s)
}

func hashNormalised(norm string) []byte {
	sum := sha256.Sum256([]byte(norm))
	return sum[:]
}
