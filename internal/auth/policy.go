package auth

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/openwatch/openwatch/internal/apperr"
)

// Password length bounds, in characters.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

// commonPasswords are refused outright: the most used passwords of at least the minimum
// length, from public breach corpora, lower-cased.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
12345678 123456789 1234567890 0123456789 987654321 11111111 00000000 88888888 12341234
password password1 password12 password123 passw0rd p@ssw0rd p@ssword passwort motdepasse
qwertyui qwertyuiop qwerty12 qwerty123 1q2w3e4r 1qaz2wsx zaq12wsx q1w2e3r4 asdfghjk asdfasdf
iloveyou sunshine princess football baseball superman batman123 starwars whatever trustno1
letmein1 welcome1 welcome123 admin123 administrator changeme changeme1 default1 secret123
monkey123 dragon123 master123 abc12345 abcd1234 abcdefgh aa123456 a1234567 qazwsxedc
michael1 jennifer charlie1 jordan23 liverpool chelsea1 arsenal1 computer internet
openwatch openwatch1 openwatch123 linux123 rootroot toortoor ubuntu12 raspberry
`) {
		commonPasswords[p] = true
	}
}

// CheckPassword enforces the password policy: 8 to 256 characters, not a common password,
// not the username. field names the request field in the error.
func CheckPassword(field, password, username string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return apperr.Invalid(field, fmt.Sprintf("%s must be at least %d characters", field, MinPasswordLength))
	case n > MaxPasswordLength:
		return apperr.Invalid(field, fmt.Sprintf("%s must be at most %d characters", field, MaxPasswordLength))
	case commonPasswords[strings.ToLower(password)]:
		return apperr.Invalid(field, field+" is too common; choose one that is harder to guess")
	case username != "" && strings.EqualFold(password, username):
		return apperr.Invalid(field, field+" must not be the username")
	}
	return nil
}
