package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PublicKey is an Ed25519 public key a verifier trusts.
type PublicKey = ed25519.PublicKey

// Verified is what a valid export says about its report.
type Verified struct {
	Format         string
	ReportID       string
	Kind           string
	Title          string
	GeneratedAt    string
	KeyID          string
	PublicKey      ed25519.PublicKey
	AuditChainHead ChainHead
	// Trusted is true when the signing key is one of the trusted keys given to Verify.
	Trusted bool
}

// Verify checks an export (JSON, CSV or PDF, told apart by their first bytes): its
// signature must cover every byte, its key id must be its public key's, and, when trusted
// is not empty, its key must be one of those. It returns what the file says about its
// report, or an error saying why it is not valid.
func Verify(file []byte, trusted []ed25519.PublicKey) (Verified, error) {
	var (
		v   Verified
		err error
	)
	switch {
	case bytes.HasPrefix(file, []byte("%PDF-")):
		v, err = verifyPDF(file)
	case bytes.HasPrefix(file, []byte("{")):
		v, err = verifyJSON(file)
	case bytes.HasPrefix(file, []byte(metaHeader[0]+",")):
		v, err = verifyCSV(file)
	default:
		return Verified{}, errors.New("not a report export: neither JSON, CSV nor PDF")
	}
	if err != nil {
		return Verified{}, fmt.Errorf("%s export: %w", v.Format, err)
	}
	if len(trusted) > 0 {
		for _, k := range trusted {
			if equalKey(k, v.PublicKey) {
				v.Trusted = true
			}
		}
		if !v.Trusted {
			return v, fmt.Errorf("%s export: signed by key %s, which is not one of the trusted keys", v.Format, v.KeyID)
		}
	}
	return v, nil
}

func verifyJSON(file []byte) (Verified, error) {
	v := Verified{Format: FormatJSON}
	// Member names are matched exactly (encoding/json would accept "rePort" for "report").
	var top map[string]json.RawMessage
	if err := json.Unmarshal(file, &top); err != nil {
		return v, fmt.Errorf("not a signed report: %w", err)
	}
	var sigMembers map[string]json.RawMessage
	if err := json.Unmarshal(top["signature"], &sigMembers); err != nil || len(top) != 2 || top["report"] == nil || len(sigMembers) != 4 {
		return v, errors.New("not a signed report: the members must be exactly report and signature")
	}
	var env jsonEnvelope
	env.Report = top["report"]
	for name, dst := range map[string]*string{"alg": &env.Signature.Alg, "key_id": &env.Signature.KeyID,
		"public_key": &env.Signature.PublicKey, "value": &env.Signature.Value} {
		if err := json.Unmarshal(sigMembers[name], dst); err != nil {
			return v, fmt.Errorf("not a signed report: signature.%s: %w", name, err)
		}
	}
	canon, err := Canonical(json.RawMessage(file))
	if err != nil {
		return v, err
	}
	if !bytes.Equal(canon, file) {
		return v, errors.New("the file is not in its canonical form (RFC 8785): it was changed after it was signed")
	}
	report, err := Canonical(env.Report)
	if err != nil {
		return v, err
	}
	pub, err := checkSignature(env.Signature.Alg, env.Signature.KeyID, env.Signature.PublicKey, env.Signature.Value, report)
	if err != nil {
		return v, err
	}
	var doc Document
	if err := json.Unmarshal(report, &doc); err != nil {
		return v, fmt.Errorf("decode report: %w", err)
	}
	v.ReportID, v.Kind, v.Title, v.GeneratedAt, v.AuditChainHead = doc.ID, doc.Kind, doc.Title, doc.GeneratedAt, doc.AuditChainHead
	v.KeyID, v.PublicKey = env.Signature.KeyID, pub
	return v, nil
}

// lastLine splits file into what precedes its last line and that line (without its
// newline); the file must end with a newline.
func lastLine(file []byte) (body []byte, line string, err error) {
	if !bytes.HasSuffix(file, []byte("\n")) {
		return nil, "", errors.New("the file does not end with its signature line")
	}
	i := bytes.LastIndexByte(file[:len(file)-1], '\n')
	return file[:i+1], string(file[i+1 : len(file)-1]), nil
}

func verifyCSV(file []byte) (Verified, error) {
	v := Verified{Format: FormatCSV}
	body, line, err := lastLine(file)
	if err != nil {
		return v, err
	}
	if !strings.HasPrefix(line, csvTrailerPrefix) {
		return v, errors.New("the last line is not the signature line")
	}
	if !strings.HasSuffix(line, csvTrailerPad) {
		return v, errors.New("the signature line does not have its cells")
	}
	f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, csvTrailerPrefix), csvTrailerPad), ",")
	if len(f) != 4 {
		return v, errors.New("the signature line does not have its four fields")
	}
	pub, err := checkSignature(f[0], f[1], f[2], f[3], body)
	if err != nil {
		return v, err
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	head, err1 := r.Read()
	row, err2 := r.Read()
	if err := errors.Join(err1, err2); err != nil || len(head) != csvWidth || len(row) != csvWidth || head[0] != metaHeader[0] {
		return v, errors.New("the metadata rows are missing")
	}
	// The key id is a cell like any other: one starting with "-" is defused by a quote.
	if row[7] != csvSafe(f[1]) {
		return v, fmt.Errorf("the metadata names key %s but the file is signed by %s", row[7], f[1])
	}
	seq, _ := strconv.ParseInt(row[8], 10, 64)
	v.ReportID, v.Kind, v.Title, v.GeneratedAt = row[0], row[1], row[2], row[3]
	v.AuditChainHead = ChainHead{Seq: seq, Hash: row[9]}
	v.KeyID, v.PublicKey = f[1], pub
	return v, nil
}

func verifyPDF(file []byte) (Verified, error) {
	v := Verified{Format: FormatPDF}
	body, line, err := lastLine(file)
	if err != nil {
		return v, err
	}
	if !strings.HasPrefix(line, pdfTrailerPrefix) {
		return v, errors.New("the last line is not the signature comment")
	}
	f := strings.Split(strings.TrimPrefix(line, pdfTrailerPrefix), " ")
	if len(f) != 4 {
		return v, errors.New("the signature comment does not have its four fields")
	}
	pub, err := checkSignature(f[0], f[1], f[2], f[3], body)
	if err != nil {
		return v, err
	}
	_, metaLine, err := lastLine(body)
	if err != nil || !strings.HasPrefix(metaLine, pdfMetaPrefix) {
		return v, errors.New("the report metadata comment is missing")
	}
	var meta pdfMeta
	if err := json.Unmarshal([]byte(strings.TrimPrefix(metaLine, pdfMetaPrefix)), &meta); err != nil {
		return v, fmt.Errorf("decode the report metadata: %w", err)
	}
	v.ReportID, v.Kind, v.Title, v.GeneratedAt, v.AuditChainHead = meta.ID, meta.Kind, meta.Title, meta.GeneratedAt, meta.AuditChainHead
	v.KeyID, v.PublicKey = f[1], pub
	return v, nil
}

// ParseTrustedKeys reads the keys a verifier trusts: PEM public keys (one or more
// "PUBLIC KEY" blocks), or the JSON document of GET /reports/signing-key.
func ParseTrustedKeys(data []byte) ([]ed25519.PublicKey, error) {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var doc struct {
			Keys []struct {
				PublicKey string `json:"public_key"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("read the signing keys document: %w", err)
		}
		var out []ed25519.PublicKey
		for _, k := range doc.Keys {
			raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
			if err != nil || len(raw) != ed25519.PublicKeySize {
				return nil, errors.New("the signing keys document holds a key that is not a base64 Ed25519 public key")
			}
			out = append(out, raw)
		}
		if len(out) == 0 {
			return nil, errors.New("the signing keys document holds no key")
		}
		return out, nil
	}
	var out []ed25519.PublicKey
	rest := trimmed
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("read PEM public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("a PEM public key is not an Ed25519 key")
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key and not a signing keys document")
	}
	return out, nil
}
