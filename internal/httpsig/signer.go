package httpsig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Signer signs outgoing requests with an API token's signing key: it covers "@method",
// "@target-uri" and, when there is a body, "content-digest" (setting Content-Digest), with
// created, keyid (the token id), a random nonce and alg.
type Signer struct {
	KeyID string
	Key   []byte
	// Now defaults to time.Now.
	Now func() time.Time
}

// NewSigner returns a signer for the token id and its base64 signing key.
func NewSigner(tokenID, signingKey string) (*Signer, error) {
	key, err := base64.StdEncoding.DecodeString(signingKey)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("httpsig: the signing key is not base64")
	}
	return &Signer{KeyID: tokenID, Key: key}, nil
}

// Sign adds Content-Digest (with a body), Signature-Input and Signature to req, whose URL
// must be absolute. It reads and restores the body.
func (s *Signer) Sign(req *http.Request) error {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return fmt.Errorf("httpsig: read body: %w", err)
		}
		_ = req.Body.Close()
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	components := []string{"@method", "@target-uri"}
	if len(body) > 0 {
		req.Header.Set(HeaderContentDigest, Digest(body))
		components = append(components, "content-digest")
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("httpsig: nonce: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	in := Input{Components: components, Params: []Param{
		{Name: "created", Int: now().Unix(), IsInt: true},
		{Name: "keyid", Str: s.KeyID},
		{Name: "nonce", Str: base64.RawURLEncoding.EncodeToString(nonce)},
		{Name: "alg", Str: Alg},
	}}
	target := req.URL.String()
	if req.Host != "" && req.Host != req.URL.Host {
		u := *req.URL
		u.Host = req.Host
		target = u.String()
	}
	base, err := Base(req, target, in)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderSignatureInput, Label+"="+in.String())
	req.Header.Set(HeaderSignature, Label+"=:"+base64.StdEncoding.EncodeToString(Sum(s.Key, base))+":")
	return nil
}

// RequestEditor signs requests of the generated client (gen/client's RequestEditorFn).
func (s *Signer) RequestEditor(_ context.Context, req *http.Request) error { return s.Sign(req) }
