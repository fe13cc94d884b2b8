package license

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	// Issuer is the `iss` every license carries.
	Issuer = "openwatch-licensing"
	// DefaultGracePeriod is how long an expired license keeps its features.
	DefaultGracePeriod = 14 * 24 * time.Hour
	// expiryWarning is how long before expiry State starts warning.
	expiryWarning = 30 * 24 * time.Hour
	// clockSkew is the tolerance applied to `nbf`.
	clockSkew = time.Minute
	// maxTokenBytes bounds what is parsed; real licenses are well under 1 KiB.
	maxTokenBytes = 16 << 10

	claimTier     = "tier"
	claimFeatures = "features"
)

// The values of VerifyResult.Result.
const (
	ResultValid          = "valid"           // in force
	ResultGrace          = "grace"           // expired, within the grace period: still in force
	ResultExpired        = "expired"         // past the grace period
	ResultNotYetValid    = "not_yet_valid"   // before `nbf`
	ResultMalformed      = "malformed"       // not a compact JWS of one signature
	ResultUnsupportedAlg = "unsupported_alg" // `alg` other than EdDSA, including none and HMAC
	ResultUnknownKID     = "unknown_kid"     // no trusted key has the token's `kid`
	ResultBadSignature   = "bad_signature"   // the named key did not sign this token
	ResultWrongIssuer    = "wrong_issuer"    // `iss` is not Issuer
	ResultInvalidClaims  = "invalid_claims"  // sub, tier, features or exp missing or wrong
)

// VerifyResult is the outcome of checking a license without installing it.
type VerifyResult struct {
	// Valid reports whether the license grants its features now (Result valid or grace).
	Valid bool
	// Result is one of the Result* constants.
	Result string
	// Tier, Features and ExpiresAt describe what the license grants while in force; they
	// are set whenever the signature verified and the claims are well formed, also for an
	// expired or not yet valid license.
	Tier      *Tier
	Features  []Feature
	ExpiresAt *time.Time
	// Warnings are full sentences for the operator.
	Warnings []string
}

// State is what the installation is licensed for right now.
type State struct {
	// Tier is the tier in force: the license's while it is active or in grace, otherwise
	// free.
	Tier   Tier
	Status Status
	// Features are the features in force, sorted; never nil.
	Features []Feature
	// CustomerID and ExpiresAt come from a license whose signature verified, also an
	// expired one; they are empty for no license or an invalid one.
	CustomerID string
	ExpiresAt  *time.Time
	// InGracePeriod is true when the license has expired but its grace period has not.
	InGracePeriod bool
	// UsingPrevKey is true when the license is signed by a key marked as previous.
	UsingPrevKey bool
	// Warnings are full sentences for the operator.
	Warnings []string
}

// Has reports whether the feature is in force: the status is active or grace and the
// license grants it.
func (s State) Has(f Feature) bool {
	if s.Status != StatusActive && s.Status != StatusGrace {
		return false
	}
	return slices.Contains(s.Features, f)
}

func (s State) clone() State {
	s.Features = slices.Clone(s.Features)
	s.Warnings = slices.Clone(s.Warnings)
	if s.ExpiresAt != nil {
		t := *s.ExpiresAt
		s.ExpiresAt = &t
	}
	return s
}

func noLicenseState() State {
	return State{Tier: TierFree, Status: StatusNoLicense, Features: []Feature{}}
}

// Verifier checks licenses against a fixed set of trusted keys. It is safe for concurrent
// use.
type Verifier struct {
	keys  map[string]TrustedKey
	grace time.Duration
	now   func() time.Time
}

// NewVerifier returns a verifier trusting keys. A grace of zero or less selects
// DefaultGracePeriod; a nil now selects time.Now. Keys without a kid or of the wrong size
// are ignored, as is a key whose kid an earlier key already has, so built-in keys listed
// first cannot be replaced by configured ones.
func NewVerifier(keys []TrustedKey, grace time.Duration, now func() time.Time) *Verifier {
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	if now == nil {
		now = time.Now
	}
	m := make(map[string]TrustedKey, len(keys))
	for _, k := range keys {
		if k.KID == "" || len(k.Public) != ed25519.PublicKeySize {
			continue
		}
		if _, ok := m[k.KID]; ok {
			continue
		}
		k.Public = slices.Clone(k.Public)
		m[k.KID] = k
	}
	return &Verifier{keys: m, grace: grace, now: now}
}

// Verify checks a license without installing it. It never panics.
func (v *Verifier) Verify(token string) VerifyResult {
	lic, bad := v.check(token)
	if bad != nil {
		return VerifyResult{Result: bad.result, Warnings: []string{bad.warning()}}
	}
	e := v.evaluate(lic, v.now())
	tier := lic.tier
	exp := lic.expiresAt
	return VerifyResult{
		Valid:     e.state.Status == StatusActive || e.state.Status == StatusGrace,
		Result:    e.result,
		Tier:      &tier,
		Features:  slices.Clone(lic.features),
		ExpiresAt: &exp,
		Warnings:  e.state.Warnings,
	}
}

// State returns what the license grants now. An empty token means no license (free tier);
// a token that fails verification leaves the free tier with status invalid and a warning
// saying why.
func (v *Verifier) State(token string) State {
	if strings.TrimSpace(token) == "" {
		return noLicenseState()
	}
	lic, bad := v.check(token)
	if bad != nil {
		return bad.state()
	}
	return v.evaluate(lic, v.now()).state
}

// license is a token whose signature and claims have been checked. Its time window is
// judged separately, so a loaded license can age without being verified again.
type license struct {
	tier       Tier
	customerID string
	features   []Feature // effective: the tier's and the extras
	notBefore  time.Time // zero when absent
	expiresAt  time.Time
	kid        string
	previous   bool
}

// failure is why a token was refused.
type failure struct {
	result string
	detail string
}

func (f *failure) warning() string {
	return fmt.Sprintf("The license is invalid (%s): %s.", f.result, f.detail)
}

func (f *failure) state() State {
	s := noLicenseState()
	s.Status = StatusInvalid
	s.Warnings = []string{f.warning() + " Only free features are enabled."}
	return s
}

func fail(result, format string, args ...any) *failure {
	return &failure{result: result, detail: fmt.Sprintf(format, args...)}
}

// check verifies the token's form, algorithm, key, signature and claims, but not its
// time window.
func (v *Verifier) check(token string) (lic *license, f *failure) {
	defer func() {
		if r := recover(); r != nil {
			lic, f = nil, fail(ResultMalformed, "the token could not be parsed")
		}
	}()
	raw := bytes.TrimSpace([]byte(token))
	if len(raw) == 0 {
		return nil, fail(ResultMalformed, "the token is empty")
	}
	if len(raw) > maxTokenBytes {
		return nil, fail(ResultMalformed, "the token is longer than %d bytes", maxTokenBytes)
	}
	msg, err := jws.Parse(raw, jws.WithCompact())
	if err != nil {
		return nil, fail(ResultMalformed, "the token is not a compact JWS")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, fail(ResultMalformed, "the token has %d signatures, want 1", len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()
	alg, ok := hdr.Algorithm()
	if !ok || alg != jwa.EdDSA() {
		name := "none given"
		if ok {
			name = alg.String()
		}
		return nil, fail(ResultUnsupportedAlg, "the signature algorithm is %q, want EdDSA", name)
	}
	kid, _ := hdr.KeyID()
	key, ok := v.keys[kid]
	if !ok {
		return nil, fail(ResultUnknownKID, "no trusted key has kid %q", kid)
	}
	payload, err := jws.Verify(raw, jws.WithKey(jwa.EdDSA(), key.Public))
	if err != nil {
		return nil, fail(ResultBadSignature, "the signature does not match trusted key %q", kid)
	}
	if p := bytes.TrimSpace(payload); len(p) == 0 || p[0] != '{' {
		return nil, fail(ResultMalformed, "the payload is not a JSON object")
	}
	tok, err := jwt.ParseInsecure(payload)
	if err != nil {
		return nil, fail(ResultMalformed, "the claims cannot be parsed")
	}
	if iss, _ := tok.Issuer(); iss != Issuer {
		return nil, fail(ResultWrongIssuer, "the issuer is %q, want %q", iss, Issuer)
	}
	lic = &license{kid: kid, previous: key.Previous}
	lic.customerID, _ = tok.Subject()
	if lic.customerID == "" {
		return nil, fail(ResultInvalidClaims, "the customer id (sub) is missing")
	}
	var tier string
	if err := tok.Get(claimTier, &tier); err != nil || !Tier(tier).Valid() {
		return nil, fail(ResultInvalidClaims, "the tier %q is not one of free, openwatch_plus, enterprise", tier)
	}
	lic.tier = Tier(tier)
	extra, ok := extraFeatures(tok)
	if !ok {
		return nil, fail(ResultInvalidClaims, "the features claim is not a list of feature names")
	}
	lic.features = effectiveFeatures(lic.tier, extra)
	var okExp bool
	lic.expiresAt, okExp = tok.Expiration()
	if !okExp || lic.expiresAt.IsZero() {
		return nil, fail(ResultInvalidClaims, "the expiry (exp) is missing")
	}
	lic.notBefore, _ = tok.NotBefore()
	return lic, nil
}

// extraFeatures reads the optional features claim: a list of non-empty names.
func extraFeatures(tok jwt.Token) ([]Feature, bool) {
	if !tok.Has(claimFeatures) {
		return nil, true
	}
	var raw any
	if err := tok.Get(claimFeatures, &raw); err != nil {
		return nil, false
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, false
	}
	features := make([]Feature, 0, len(list))
	for _, item := range list {
		name, ok := item.(string)
		if !ok || name == "" {
			return nil, false
		}
		features = append(features, Feature(name))
	}
	return features, true
}

// evaluation is a license judged at one instant.
type evaluation struct {
	result string
	state  State
	// next is when the evaluation may change (a boundary of the license's time window, or
	// the next day of the expiry countdown); zero when it never will.
	next time.Time
}

// evaluate judges the license's time window at now.
func (v *Verifier) evaluate(lic *license, now time.Time) evaluation {
	exp := lic.expiresAt
	st := State{
		Tier:         lic.tier,
		Status:       StatusActive,
		Features:     slices.Clone(lic.features),
		CustomerID:   lic.customerID,
		ExpiresAt:    &exp,
		UsingPrevKey: lic.previous,
	}
	if lic.previous {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"The license is signed by key %q, which is being retired; ask for a license signed with the current key.", lic.kid))
	}
	freeOnly := func(status Status) {
		st.Tier = TierFree
		st.Status = status
		st.Features = []Feature{}
	}
	graceEnd := exp.Add(v.grace)
	e := evaluation{result: ResultValid}
	switch {
	case !lic.notBefore.IsZero() && now.Before(lic.notBefore.Add(-clockSkew)):
		e.result = ResultNotYetValid
		e.next = lic.notBefore.Add(-clockSkew)
		freeOnly(StatusInvalid)
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"The license is not valid before %s. Only free features are enabled.", stamp(lic.notBefore)))
	case now.Before(exp):
		left := exp.Sub(now)
		if left > expiryWarning {
			e.next = exp.Add(-expiryWarning)
			break
		}
		days := int((left + 24*time.Hour - 1) / (24 * time.Hour))
		e.next = exp.Add(-time.Duration(days-1) * 24 * time.Hour)
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"The license expires on %s, in %s.", stamp(exp), plural(days, "day")))
	case now.Before(graceEnd):
		e.result = ResultGrace
		e.next = graceEnd
		st.Status = StatusGrace
		st.InGracePeriod = true
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"The license expired on %s; grace period ends %s.", stamp(exp), stamp(graceEnd)))
	default:
		e.result = ResultExpired
		freeOnly(StatusExpired)
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"The license expired on %s and its grace period ended %s. Only free features are enabled.", stamp(exp), stamp(graceEnd)))
	}
	e.state = st
	return e
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
