package mfa_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/mfa"
)

// codeAt is the code an authenticator app shows for secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	require.NoError(t, err)
	return code
}

func newSecret(t *testing.T) string {
	t.Helper()
	secret, _, err := mfa.NewSecret(mfa.Issuer, "alice@example.com")
	require.NoError(t, err)
	return secret
}

// testSecret is fixed so that tests which expect a refusal cannot meet a chance
// collision (one in a million per step) with a random secret.
const testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// now is 15 s into a step, the middle, so ±1 step is unambiguous.
var now = time.Unix(1_750_000_005, 0)

func TestNewSecretProvisioningURI(t *testing.T) {
	t.Parallel()
	secret, uri, err := mfa.NewSecret(mfa.Issuer, "alice@example.com")
	require.NoError(t, err)
	require.Len(t, secret, 32, "160 bits in unpadded base32")

	u, err := url.Parse(uri)
	require.NoError(t, err)
	require.Equal(t, "otpauth", u.Scheme)
	require.Equal(t, "totp", u.Host)
	require.Equal(t, "/OpenWatch:alice@example.com", u.Path)
	q := u.Query()
	require.Equal(t, secret, q.Get("secret"))
	require.Equal(t, "OpenWatch", q.Get("issuer"))
	require.Equal(t, "SHA1", q.Get("algorithm"))
	require.Equal(t, "6", q.Get("digits"))
	require.Equal(t, "30", q.Get("period"))

	key, err := otp.NewKeyFromURL(uri)
	require.NoError(t, err)
	require.Equal(t, "OpenWatch", key.Issuer())
	require.Equal(t, "alice@example.com", key.AccountName())
	require.Equal(t, secret, key.Secret())

	other, _, err := mfa.NewSecret(mfa.Issuer, "alice@example.com")
	require.NoError(t, err)
	require.NotEqual(t, secret, other, "secrets are random")
}

func TestNewSecretRequiresNames(t *testing.T) {
	t.Parallel()
	_, _, err := mfa.NewSecret(mfa.Issuer, "")
	require.Error(t, err)
	_, _, err = mfa.NewSecret("", "alice")
	require.Error(t, err)
}

// TestVerifyRFC6238 checks the SHA-1 test vector of RFC 6238 appendix B (last six digits).
func TestVerifyRFC6238(t *testing.T) {
	t.Parallel()
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	step, err := mfa.Verify(secret, "287082", time.Unix(59, 0), 0)
	require.NoError(t, err)
	require.EqualValues(t, 1, step)
	step, err = mfa.Verify(secret, "005924", time.Unix(1234567890, 0), 0)
	require.NoError(t, err)
	require.EqualValues(t, 1234567890/30, step)
}

func TestVerifyCurrentCode(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	step, err := mfa.Verify(secret, codeAt(t, secret, now), now, 0)
	require.NoError(t, err)
	require.Equal(t, now.Unix()/30, step)
}

func TestVerifySkew(t *testing.T) {
	t.Parallel()
	secret := testSecret
	current := now.Unix() / 30
	for name, tc := range map[string]struct {
		offset time.Duration
		step   int64
		err    error
	}{
		"previousStepAccepted":  {offset: -30 * time.Second, step: current - 1},
		"nextStepAccepted":      {offset: 30 * time.Second, step: current + 1},
		"twoStepsBackRefused":   {offset: -60 * time.Second, err: mfa.ErrInvalidCode},
		"twoStepsAheadRefused":  {offset: 60 * time.Second, err: mfa.ErrInvalidCode},
		"longAgoRefused":        {offset: -time.Hour, err: mfa.ErrInvalidCode},
		"justBeforeWindow":      {offset: -46 * time.Second, err: mfa.ErrInvalidCode},
		"justAfterWindow":       {offset: 45 * time.Second, err: mfa.ErrInvalidCode},
		"startOfStepAccepted":   {offset: -15 * time.Second, step: current},
		"endOfStepAccepted":     {offset: 14 * time.Second, step: current},
		"endOfNextStepAccepted": {offset: 44 * time.Second, step: current + 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code := codeAt(t, secret, now.Add(tc.offset))
			step, err := mfa.Verify(secret, code, now, 0)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Zero(t, step)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.step, step)
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	t.Parallel()
	secret := testSecret
	code := codeAt(t, secret, now)
	last, err := mfa.Verify(secret, code, now, 0)
	require.NoError(t, err)

	_, err = mfa.Verify(secret, code, now, last)
	require.ErrorIs(t, err, mfa.ErrReplayed, "the same code twice")
	require.NotErrorIs(t, err, mfa.ErrInvalidCode, "replay and invalid are distinct")

	_, err = mfa.Verify(secret, code, now.Add(30*time.Second), last)
	require.ErrorIs(t, err, mfa.ErrReplayed, "still refused while inside the skew window")

	_, err = mfa.Verify(secret, codeAt(t, secret, now.Add(-30*time.Second)), now, last)
	require.ErrorIs(t, err, mfa.ErrReplayed, "an older code after a newer one was accepted")

	next := now.Add(30 * time.Second)
	step, err := mfa.Verify(secret, codeAt(t, secret, next), next, last)
	require.NoError(t, err, "the next code after a refused replay")
	require.Equal(t, last+1, step)

	_, err = mfa.Verify(secret, codeAt(t, secret, next), next, step)
	require.ErrorIs(t, err, mfa.ErrReplayed)
}

// TestVerifyAheadCodeBlocksCurrent: accepting the next step's code (fast clock) moves
// lastStep ahead, so the current step's code is a replay too.
func TestVerifyAheadCodeBlocksCurrent(t *testing.T) {
	t.Parallel()
	secret := testSecret
	last, err := mfa.Verify(secret, codeAt(t, secret, now.Add(30*time.Second)), now, 0)
	require.NoError(t, err)
	_, err = mfa.Verify(secret, codeAt(t, secret, now), now, last)
	require.ErrorIs(t, err, mfa.ErrReplayed)
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	secret := testSecret
	good := codeAt(t, secret, now)
	for name, code := range map[string]string{
		"empty":          "",
		"tooShort":       good[:5],
		"tooLong":        good + "0",
		"letters":        "12a456",
		"spaceInside":    good[:3] + " " + good[3:],
		"leadingSpace":   " " + good,
		"plusSign":       "+" + good[1:],
		"nonASCIIDigits": "١٢٣٤٥٦",
		"recoveryCode":   "k7wq-3hzp-x2mv",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := mfa.Verify(secret, code, now, 0)
			require.ErrorIs(t, err, mfa.ErrInvalidCode)
		})
	}
}

func TestVerifyWrongSecret(t *testing.T) {
	t.Parallel()
	code := codeAt(t, testSecret, now)
	_, err := mfa.Verify("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", code, now, 0)
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
}

func TestVerifyMalformedSecret(t *testing.T) {
	t.Parallel()
	_, err := mfa.Verify("not base32!", "123456", now, 0)
	require.Error(t, err)
	require.NotErrorIs(t, err, mfa.ErrInvalidCode, "a broken secret is the server's fault")
}
