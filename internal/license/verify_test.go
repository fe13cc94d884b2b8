package license

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := f.clock.Now()
	day := 24 * time.Hour
	stranger := newSigningKey(t, f.current.kid) // same kid, key nobody trusts

	tests := []struct {
		name     string
		token    func(t *testing.T) string
		result   string
		valid    bool
		tier     Tier
		features []Feature
		warning  string
	}{
		{
			name:     "validPlus",
			token:    func(t *testing.T) string { return f.mint(t, nil) },
			result:   ResultValid,
			valid:    true,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
		},
		{
			name: "validEnterprise",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) { c.Tier = TierEnterprise })
			},
			result:   ResultValid,
			valid:    true,
			tier:     TierEnterprise,
			features: []Feature{FeatureAuditExport},
		},
		{
			name: "validFreeWithExtraFeatures",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) {
					c.Tier = TierFree
					c.Features = []Feature{"fleet_insights", FeatureAuditExport, "fleet_insights"}
				})
			},
			result:   ResultValid,
			valid:    true,
			tier:     TierFree,
			features: []Feature{FeatureAuditExport, "fleet_insights"},
		},
		{
			name: "validExpiringSoonWarns",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) { c.ExpiresAt = now.Add(10*day - time.Hour) })
			},
			result:   ResultValid,
			valid:    true,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
			warning:  "in 10 days",
		},
		{
			name: "validNotBeforeWithinSkew",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) { c.NotBefore = now.Add(30 * time.Second) })
			},
			result:   ResultValid,
			valid:    true,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
		},
		{
			name: "graceExpiredWithinGracePeriod",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) {
					c.IssuedAt = now.Add(-400 * day)
					c.ExpiresAt = now.Add(-3 * day)
				})
			},
			result:   ResultGrace,
			valid:    true,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
			warning:  "license expired on 2026-02-26T12:00:00Z; grace period ends 2026-03-12T12:00:00Z",
		},
		{
			name: "expiredAfterGracePeriod",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) {
					c.IssuedAt = now.Add(-400 * day)
					c.ExpiresAt = now.Add(-15 * day)
				})
			},
			result:   ResultExpired,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
			warning:  "grace period ended",
		},
		{
			name: "notYetValid",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) { c.NotBefore = now.Add(2 * time.Minute) })
			},
			result:   ResultNotYetValid,
			tier:     TierPlus,
			features: []Feature{FeatureAuditExport},
			warning:  "not valid before",
		},
		{
			name: "wrongIssuer",
			token: func(t *testing.T) string {
				return f.mint(t, func(c *Claims) { c.Issuer = "someone-else" })
			},
			result:  ResultWrongIssuer,
			warning: "someone-else",
		},
		{
			name: "badSignatureTamperedPayload",
			token: func(t *testing.T) string {
				parts := strings.Split(f.mint(t, nil), ".")
				payload, err := b64Decode(parts[1])
				require.NoError(t, err)
				var claims map[string]any
				require.NoError(t, json.Unmarshal(payload, &claims))
				claims["tier"] = string(TierEnterprise)
				forged, err := json.Marshal(claims)
				require.NoError(t, err)
				return parts[0] + "." + b64(forged) + "." + parts[2]
			},
			result: ResultBadSignature,
		},
		{
			name: "badSignatureUntrustedKeySameKID",
			token: func(t *testing.T) string {
				tok, err := Mint(stranger.priv, stranger.kid, f.claims())
				require.NoError(t, err)
				return tok
			},
			result: ResultBadSignature,
		},
		{
			name: "badSignatureTruncated",
			token: func(t *testing.T) string {
				tok := f.mint(t, nil)
				return tok[:len(tok)-4]
			},
			result: ResultBadSignature,
		},
		{
			name: "unsupportedAlgHS256",
			token: func(t *testing.T) string {
				return hmacToken(t, f.current.kid, []byte("a shared secret of enough length!!"))
			},
			result: ResultUnsupportedAlg,
		},
		{
			name: "unsupportedAlgHS256KeyedWithThePublicKey",
			token: func(t *testing.T) string {
				return hmacToken(t, f.current.kid, f.current.pub)
			},
			result:  ResultUnsupportedAlg,
			warning: "HS256",
		},
		{
			name:    "unsupportedAlgUnsigned",
			token:   func(t *testing.T) string { return unsignedToken(t, f.current.kid) },
			result:  ResultUnsupportedAlg,
			warning: "none",
		},
		{
			name: "unknownKID",
			token: func(t *testing.T) string {
				other := newSigningKey(t, "retired-long-ago")
				tok, err := Mint(other.priv, other.kid, f.claims())
				require.NoError(t, err)
				return tok
			},
			result:  ResultUnknownKID,
			warning: "retired-long-ago",
		},
		{
			name: "invalidClaimsUnknownTier",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				c["tier"] = "platinum"
				return f.signRaw(t, c)
			},
			result:  ResultInvalidClaims,
			warning: "platinum",
		},
		{
			name: "invalidClaimsMissingTier",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				delete(c, "tier")
				return f.signRaw(t, c)
			},
			result: ResultInvalidClaims,
		},
		{
			name: "invalidClaimsMissingExpiry",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				delete(c, "exp")
				return f.signRaw(t, c)
			},
			result: ResultInvalidClaims,
		},
		{
			name: "invalidClaimsMissingSubject",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				delete(c, "sub")
				return f.signRaw(t, c)
			},
			result: ResultInvalidClaims,
		},
		{
			name: "invalidClaimsFeaturesNotAList",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				c["features"] = "audit_export"
				return f.signRaw(t, c)
			},
			result: ResultInvalidClaims,
		},
		{
			name: "wrongIssuerMissing",
			token: func(t *testing.T) string {
				c := f.rawClaims()
				delete(c, "iss")
				return f.signRaw(t, c)
			},
			result: ResultWrongIssuer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := f.verifier.Verify(tt.token(t))
			require.Equal(t, tt.result, got.Result, "warnings: %q", got.Warnings)
			require.Equal(t, tt.valid, got.Valid)
			if tt.tier == "" {
				require.Nil(t, got.Tier)
				require.Nil(t, got.ExpiresAt)
				require.Empty(t, got.Features)
				require.NotEmpty(t, got.Warnings, "a refusal says why")
			} else {
				require.NotNil(t, got.Tier)
				require.Equal(t, tt.tier, *got.Tier)
				require.Equal(t, tt.features, got.Features)
				require.NotNil(t, got.ExpiresAt)
			}
			if tt.warning != "" {
				require.True(t, containsWarning(got.Warnings, tt.warning), "want a warning containing %q, got %q", tt.warning, got.Warnings)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	valid := f.mint(t, nil)
	parts := strings.Split(valid, ".")

	tests := map[string]string{
		"empty":              "",
		"whitespace":         " \n\t",
		"garbage":            "garbage",
		"twoSegments":        parts[0] + "." + parts[1],
		"fourSegments":       valid + ".AAAA",
		"dotsOnly":           "..",
		"headerNotBase64":    "!!!." + parts[1] + "." + parts[2],
		"headerNotJSON":      b64([]byte("not json")) + "." + parts[1] + "." + parts[2],
		"emptyEdDSASig":      parts[0] + "." + parts[1] + ".",
		"jsonSerialization":  `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`,
		"oversized":          parts[0] + "." + strings.Repeat("A", maxTokenBytes) + "." + parts[2],
		"binary":             "\x00\xff\xfe.\x00.\x01",
		"signedNonJSONClaim": signedPayload(t, f, []byte("hello")),
		"signedJSONArray":    signedPayload(t, f, []byte(`["iss"]`)),
		"signedNestedJWS":    signedPayload(t, f, []byte(valid)),
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got VerifyResult
			require.NotPanics(t, func() { got = f.verifier.Verify(token) })
			require.False(t, got.Valid)
			require.Equal(t, ResultMalformed, got.Result, "warnings: %q", got.Warnings)
			require.Nil(t, got.Tier)
			require.NotEmpty(t, got.Warnings)

			st := f.verifier.State(token)
			require.Equal(t, TierFree, st.Tier)
			require.Empty(t, st.Features)
			require.False(t, st.Has(FeatureAuditExport))
			if strings.TrimSpace(token) == "" {
				require.Equal(t, StatusNoLicense, st.Status)
			} else {
				require.Equal(t, StatusInvalid, st.Status)
				require.NotEmpty(t, st.Warnings)
			}
		})
	}
}

func signedPayload(t *testing.T, f *fixture, payload []byte) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"alg": "EdDSA", "kid": f.current.kid})
	require.NoError(t, err)
	input := b64(hdr) + "." + b64(payload)
	return input + "." + b64(ed25519Sign(f.current, []byte(input)))
}

func TestState(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := f.clock.Now()
	day := 24 * time.Hour

	t.Run("noLicense", func(t *testing.T) {
		st := f.verifier.State("")
		require.Equal(t, State{Tier: TierFree, Status: StatusNoLicense, Features: []Feature{}}, st)
	})
	t.Run("activePlus", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, nil))
		require.Equal(t, TierPlus, st.Tier)
		require.Equal(t, StatusActive, st.Status)
		require.Equal(t, "cust-42", st.CustomerID)
		require.NotNil(t, st.ExpiresAt)
		require.True(t, st.ExpiresAt.Equal(now.Add(365*day)))
		require.False(t, st.InGracePeriod)
		require.False(t, st.UsingPrevKey)
		require.Empty(t, st.Warnings)
		require.True(t, st.Has(FeatureAuditExport))
	})
	t.Run("activeExpiringSoonWarns", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, func(c *Claims) { c.ExpiresAt = now.Add(29 * day) }))
		require.Equal(t, StatusActive, st.Status)
		require.Equal(t, []string{"The license expires on 2026-03-30T12:00:00Z, in 29 days."}, st.Warnings)
	})
	t.Run("activeExpiringTomorrowSingular", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, func(c *Claims) { c.ExpiresAt = now.Add(time.Hour) }))
		require.True(t, containsWarning(st.Warnings, "in 1 day."), "%q", st.Warnings)
	})
	t.Run("graceKeepsFeatures", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, func(c *Claims) {
			c.Tier = TierEnterprise
			c.IssuedAt = now.Add(-100 * day)
			c.ExpiresAt = now.Add(-day)
		}))
		require.Equal(t, TierEnterprise, st.Tier)
		require.Equal(t, StatusGrace, st.Status)
		require.True(t, st.InGracePeriod)
		require.True(t, st.Has(FeatureAuditExport))
		require.Equal(t, []string{"The license expired on 2026-02-28T12:00:00Z; grace period ends 2026-03-14T12:00:00Z."}, st.Warnings)
	})
	t.Run("expiredFallsBackToFree", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, func(c *Claims) {
			c.Tier = TierEnterprise
			c.IssuedAt = now.Add(-100 * day)
			c.ExpiresAt = now.Add(-15 * day)
		}))
		require.Equal(t, TierFree, st.Tier)
		require.Equal(t, StatusExpired, st.Status)
		require.Empty(t, st.Features)
		require.False(t, st.InGracePeriod)
		require.False(t, st.Has(FeatureAuditExport))
		require.Equal(t, "cust-42", st.CustomerID, "an expired license still says whose it was")
		require.NotNil(t, st.ExpiresAt)
		require.Len(t, st.Warnings, 1)
	})
	t.Run("notYetValidIsInvalid", func(t *testing.T) {
		st := f.verifier.State(f.mint(t, func(c *Claims) { c.NotBefore = now.Add(time.Hour) }))
		require.Equal(t, StatusInvalid, st.Status)
		require.Equal(t, TierFree, st.Tier)
		require.False(t, st.Has(FeatureAuditExport))
	})
	t.Run("invalidSignatureWarns", func(t *testing.T) {
		tok := f.mint(t, nil)
		st := f.verifier.State(tok[:len(tok)-4] + "AAAA")
		require.Equal(t, StatusInvalid, st.Status)
		require.Equal(t, TierFree, st.Tier)
		require.Empty(t, st.CustomerID)
		require.Nil(t, st.ExpiresAt)
		require.True(t, containsWarning(st.Warnings, "bad_signature"), "%q", st.Warnings)
	})
	t.Run("previousKeyUsingPrevKey", func(t *testing.T) {
		tok, err := Mint(f.previous.priv, f.previous.kid, f.claims())
		require.NoError(t, err)
		st := f.verifier.State(tok)
		require.Equal(t, StatusActive, st.Status)
		require.True(t, st.UsingPrevKey)
		require.True(t, st.Has(FeatureAuditExport))
		require.True(t, containsWarning(st.Warnings, `key "previous"`), "%q", st.Warnings)

		res := f.verifier.Verify(tok)
		require.True(t, res.Valid)
		require.Equal(t, ResultValid, res.Result)
		require.NotEmpty(t, res.Warnings)
	})
	t.Run("currentKeyNotUsingPrevKey", func(t *testing.T) {
		require.False(t, f.verifier.State(f.mint(t, nil)).UsingPrevKey)
	})
}

func TestStateHas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tier   Tier
		status Status
		want   bool
	}{
		{"freeActiveLacks", TierFree, StatusActive, false},
		{"plusActiveHas", TierPlus, StatusActive, true},
		{"plusGraceHas", TierPlus, StatusGrace, true},
		{"enterpriseActiveHas", TierEnterprise, StatusActive, true},
		{"enterpriseGraceHas", TierEnterprise, StatusGrace, true},
		{"enterpriseExpiredLacks", TierEnterprise, StatusExpired, false},
		{"enterpriseInvalidLacks", TierEnterprise, StatusInvalid, false},
		{"enterpriseNoLicenseLacks", TierEnterprise, StatusNoLicense, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := State{Tier: tt.tier, Status: tt.status, Features: effectiveFeatures(tt.tier, nil)}
			require.Equal(t, tt.want, st.Has(FeatureAuditExport))
			require.False(t, st.Has("no_such_feature"))
		})
	}
}

func TestTierFeatures(t *testing.T) {
	t.Parallel()
	require.Empty(t, TierFree.Features())
	require.Equal(t, []Feature{FeatureAuditExport}, TierPlus.Features())
	require.Subset(t, TierEnterprise.Features(), TierPlus.Features(), "enterprise has everything plus has")
	require.False(t, Tier("platinum").Valid())
	require.Empty(t, Tier("platinum").Features())
}

func TestNewVerifierDefaults(t *testing.T) {
	t.Parallel()
	k := newSigningKey(t, "k")
	v := NewVerifier([]TrustedKey{
		{KID: "", Public: k.pub},
		{KID: "short", Public: k.pub[:10]},
		{KID: k.kid, Public: k.pub},
		{KID: k.kid, Public: newSigningKey(t, "x").pub, Previous: true},
	}, 0, nil)
	require.Equal(t, DefaultGracePeriod, v.grace)
	require.Len(t, v.keys, 1, "keys without a kid or of the wrong size are ignored")
	require.False(t, v.keys[k.kid].Previous, "the first key with a kid wins")

	tok, err := Mint(k.priv, k.kid, Claims{Tier: TierPlus, CustomerID: "c", ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, ResultValid, v.Verify(tok).Result, "the real clock is the default")
}

func TestMintRejects(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := map[string]struct {
		priv []byte
		kid  string
		edit func(*Claims)
	}{
		"shortKey":          {priv: f.current.priv[:31], kid: "k"},
		"emptyKID":          {priv: f.current.priv, kid: ""},
		"unknownTier":       {priv: f.current.priv, kid: "k", edit: func(c *Claims) { c.Tier = "platinum" }},
		"emptyCustomer":     {priv: f.current.priv, kid: "k", edit: func(c *Claims) { c.CustomerID = "" }},
		"noExpiry":          {priv: f.current.priv, kid: "k", edit: func(c *Claims) { c.ExpiresAt = time.Time{} }},
		"expiryBeforeStart": {priv: f.current.priv, kid: "k", edit: func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Hour) }},
		"emptyFeature":      {priv: f.current.priv, kid: "k", edit: func(c *Claims) { c.Features = []Feature{""} }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := f.claims()
			if tt.edit != nil {
				tt.edit(&c)
			}
			_, err := Mint(tt.priv, tt.kid, c)
			require.Error(t, err)
		})
	}
}

func TestMintClaims(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tok := f.mint(t, func(c *Claims) { c.Features = []Feature{"b", "a", "b"} })
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)

	header, err := b64Decode(parts[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(header, &h))
	require.Equal(t, "EdDSA", h["alg"])
	require.Equal(t, f.current.kid, h["kid"])

	payload, err := b64Decode(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(payload, &c))
	require.Equal(t, Issuer, c["iss"])
	require.Equal(t, "cust-42", c["sub"])
	require.Equal(t, "openwatch_plus", c["tier"])
	require.Equal(t, []any{"a", "b"}, c["features"])
	for _, claim := range []string{"exp", "nbf", "iat", "jti"} {
		require.Contains(t, c, claim)
	}
	require.NotEqual(t, tok, f.mint(t, func(c *Claims) { c.Features = []Feature{"b", "a", "b"} }), "every license has its own jti")
}
