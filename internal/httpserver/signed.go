package httpserver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/httpsig"
)

// authenticateSigned verifies an RFC 9421 signed request (label "ow", hmac-sha256) and
// returns the principal of the API token its keyid names. The covered components must
// include "@method", the target ("@target-uri", or "@path" with "@query" when the URL has
// a query) and, with a body, "content-digest", whose header must match the body; created,
// keyid and nonce are required. Every refusal is a 401 whose message names the reason.
func (s *Server) authenticateSigned(req *http.Request) (*authz.Principal, error) {
	if req.Header.Get("Authorization") != "" {
		return nil, auth.ErrSignature("ambiguous", "Send either a signed request or an Authorization header, not both.")
	}
	in, err := httpsig.ParseInput(req.Header.Get(httpsig.HeaderSignatureInput), httpsig.Label)
	if err != nil {
		return nil, auth.ErrSignature("malformed", "The Signature-Input header is not an RFC 9421 signature labelled 'ow': "+err.Error()+".")
	}
	sig, err := httpsig.ParseSignature(req.Header.Get(httpsig.HeaderSignature), httpsig.Label)
	if err != nil {
		return nil, auth.ErrSignature("malformed", "The Signature header is missing or not an RFC 9421 signature labelled 'ow': "+err.Error()+".")
	}
	if alg, ok := in.Get("alg"); ok && alg != httpsig.Alg {
		return nil, auth.ErrSignature("malformed", "The signature algorithm must be hmac-sha256.")
	}
	created, ok := in.GetInt("created")
	keyid, okKey := in.Get("keyid")
	nonce, okNonce := in.Get("nonce")
	switch {
	case !ok:
		return nil, auth.ErrSignature("malformed", "The signature has no created parameter.")
	case !okKey:
		return nil, auth.ErrSignature("malformed", "The signature has no keyid parameter (the API token id).")
	case !okNonce || nonce == "" || len(nonce) > 256:
		return nil, auth.ErrSignature("malformed", "The signature needs a nonce parameter of 1 to 256 characters.")
	}
	tokenID, err := uuid.Parse(keyid)
	if err != nil {
		return nil, auth.ErrSignature("unknown_key", "The signing key is unknown: keyid must be an API token id.")
	}
	if expires, ok := in.GetInt("expires"); ok && !s.now().Before(time.Unix(expires, 0)) {
		return nil, auth.ErrSignature("stale", "The signature expired (its expires parameter has passed).")
	}
	missing := func(what string) error {
		return auth.ErrSignature("missing_component", "The signature must cover "+what+".")
	}
	switch {
	case !in.Covers("@method"):
		return nil, missing(`"@method"`)
	case !in.Covers("@target-uri") && !in.Covers("@path") && !in.Covers("@request-target"):
		return nil, missing(`"@target-uri" (or "@path" and "@query")`)
	case !in.Covers("@target-uri") && !in.Covers("@request-target") && req.URL.RawQuery != "" && !in.Covers("@query"):
		return nil, missing(`"@query", since the URL has a query`)
	}
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 && !in.Covers("content-digest") {
		return nil, missing(`"content-digest" (RFC 9530, sha-256), since the request has a body`)
	}
	if in.Covers("content-digest") {
		if err := httpsig.CheckDigest(req.Header.Get(httpsig.HeaderContentDigest), body); err != nil {
			return nil, auth.ErrSignature("digest_mismatch", "The body does not match its Content-Digest (sha-256): it was changed after signing, or the digest is wrong.")
		}
	}
	targets := s.targetURIs(req)
	var bases [][]byte
	for _, t := range targets {
		base, err := httpsig.Base(req, t, in)
		if errors.Is(err, httpsig.ErrMissingComponent) {
			return nil, auth.ErrSignature("missing_component", "A covered component is missing from the request: "+err.Error()+".")
		}
		if err != nil {
			return nil, auth.ErrSignature("malformed", "The signature's covered components are not usable: "+err.Error()+".")
		}
		bases = append(bases, base)
	}
	return s.auth.AuthenticateSigned(req.Context(), tokenID, time.Unix(created, 0), nonce, func(key []byte) error {
		for _, b := range bases {
			if httpsig.Verify(key, b, sig) == nil {
				return nil
			}
		}
		return auth.ErrSignature("bad_signature", "The signature does not verify under the token's signing key: check the key, the covered components and the signature base.")
	})
}

// targetURIs returns the absolute URIs the client may have signed as "@target-uri": as
// this server received the request, and under the configured public URL.
func (s *Server) targetURIs(req *http.Request) []string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	out := []string{scheme + "://" + req.Host + req.URL.RequestURI()}
	if s.publicURL != nil {
		u := *s.publicURL
		out = append(out, u.Scheme+"://"+u.Host+req.URL.RequestURI())
	}
	return out
}

// readBody reads the (size-limited) body and puts it back for the handler.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, apperr.Newf(apperr.CodeBodyTooLarge, "The request body is larger than the limit of %d bytes.", tooLarge.Limit).
				WithDetail("limit_bytes", tooLarge.Limit)
		}
		return nil, apperr.New(apperr.CodeValidationFailed, "The request body could not be read.")
	}
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func parsePublicURL(raw string) *url.URL {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}
