package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The export formats.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
	FormatPDF  = "pdf"
)

// The markers of the signature trailers.
const (
	csvTrailerPrefix = "#openwatch-signature,"
	pdfMetaPrefix    = "%openwatch-report "
	pdfTrailerPrefix = "%openwatch-signature "
)

// Export renders a report's canonical content in format, signed by s. Errors: a content
// that is not a report document, or a format that does not exist.
func Export(content []byte, format string, s Signer) ([]byte, error) {
	switch format {
	case FormatJSON:
		return exportJSON(content, s)
	case FormatCSV, FormatPDF:
		var doc Document
		if err := json.Unmarshal(content, &doc); err != nil {
			return nil, fmt.Errorf("decode report: %w", err)
		}
		if format == FormatCSV {
			return exportCSV(doc, s)
		}
		return exportPDF(doc, s)
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}

// jsonEnvelope is the JSON export: the report and its signature.
type jsonEnvelope struct {
	Report    json.RawMessage `json:"report"`
	Signature Signature       `json:"signature"`
}

func exportJSON(content []byte, s Signer) ([]byte, error) {
	canon, err := Canonical(json.RawMessage(content))
	if err != nil {
		return nil, err
	}
	return Canonical(jsonEnvelope{Report: canon, Signature: Signature{Alg: Algorithm, KeyID: s.KeyID,
		PublicKey: base64.StdEncoding.EncodeToString(s.Public), Value: base64.StdEncoding.EncodeToString(s.Sign(canon))}})
}

// csvSafe defuses a cell a spreadsheet would read as a formula: one that starts with
// = + - @ a tab or a carriage return is prefixed with a single quote.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// csvWidth is the number of cells of every row of a CSV export, the signature line
// included (its unused cells are empty).
const csvWidth = 12

var (
	blankRow      = strings.Repeat(",", csvWidth-1) + "\n"
	csvTrailerPad = strings.Repeat(",", csvWidth-5)
)

// metaHeader and metaRow are the first two rows of a CSV export.
var metaHeader = []string{"report_id", "kind", "title", "generated_at", "generated_by", "openwatch_version", "scope",
	"signing_key_id", "audit_chain_head_seq", "audit_chain_head_hash"}

func scopeText(s ScopeDoc) string {
	if s.Name != "" {
		return s.Type + ": " + s.Name
	}
	return s.Type
}

func exportCSV(doc Document, s Signer) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	// Every row has csvWidth cells (shorter ones are padded), so the file is a rectangle
	// any CSV reader takes.
	write := func(cells ...string) {
		row := make([]string, csvWidth)
		for i := range cells {
			row[i] = csvSafe(cells[i])
		}
		_ = w.Write(row)
	}
	write(metaHeader...)
	write(doc.ID, doc.Kind, doc.Title, doc.GeneratedAt, doc.GeneratedBy.Name, doc.OpenWatchVersion, scopeText(doc.Scope),
		s.KeyID, strconv.FormatInt(doc.AuditChainHead.Seq, 10), doc.AuditChainHead.Hash)
	w.Flush()
	buf.WriteString(blankRow)
	switch {
	case doc.Compliance != nil:
		write("host_id", "hostname", "rule_id", "title", "severity", "status", "reason", "scan_id", "evidence", "changed_at", "exception_id")
		for _, h := range doc.Compliance.Hosts {
			for _, r := range h.Results {
				write(h.HostID, h.Hostname, r.RuleID, r.Title, r.Severity, r.Status, r.Reason, r.ScanID, r.Evidence, r.ChangedAt, r.ExceptionID)
			}
		}
		w.Flush()
		buf.WriteString(blankRow)
		write("exception_id", "rule_id", "scope", "host_id", "group_id", "reason", "requested_by", "approved_by", "approved_at", "expires_at")
		for _, e := range doc.Compliance.Exceptions {
			write(e.ID, e.RuleID, e.Scope, e.HostID, e.GroupID, e.Reason, e.RequestedBy, e.ApprovedBy, e.ApprovedAt, e.ExpiresAt)
		}
	case doc.Audit != nil:
		write("seq", "occurred_at", "action", "severity", "actor_type", "actor_id", "resource_type", "resource_id",
			"correlation_id", "detail", "prev_hash", "hash")
		for _, e := range doc.Audit.Events {
			write(strconv.FormatInt(e.Seq, 10), e.OccurredAt, e.Action, e.Severity, e.ActorType, e.ActorID, e.ResourceType,
				e.ResourceID, e.CorrelationID, string(e.Detail), e.PrevHash, e.Hash)
		}
	case doc.PatchHistory != nil:
		write("job_id", "kind", "name", "job_status", "requested_by", "host_id", "host_name", "host_status", "error",
			"started_at", "finished_at", "rebooted")
		for _, j := range doc.PatchHistory.Jobs {
			for _, h := range j.Hosts {
				write(j.ID, j.Kind, j.Name, j.Status, j.RequestedBy, h.HostID, h.HostName, h.Status, h.Error, h.StartedAt,
					h.FinishedAt, strconv.FormatBool(h.Rebooted))
			}
		}
	case doc.Vulnerability != nil:
		write("feed_source", "imports", "last_import_at", "last_status", "last_success_at", "advisories")
		for _, f := range doc.Vulnerability.Feeds {
			write(f.Source, strconv.FormatInt(f.Imports, 10), f.LastImportAt, f.LastStatus, f.LastSuccessAt,
				strconv.FormatInt(f.Advisories, 10))
		}
		w.Flush()
		buf.WriteString(blankRow)
		write("advisory_id", "aliases", "severity", "cvss_score", "host_id", "hostname", "release", "package",
			"installed_version", "fixed_version", "fix_installable", "first_seen")
		for _, a := range doc.Vulnerability.Advisories {
			score := ""
			if a.CVSSScore != nil {
				score = strconv.FormatFloat(*a.CVSSScore, 'f', -1, 64)
			}
			for _, h := range a.Hosts {
				write(a.ID, strings.Join(a.Aliases, " "), a.Severity, score, h.HostID, h.Hostname, h.Release, h.Package,
					h.InstalledVersion, h.FixedVersion, strconv.FormatBool(h.FixInstallable), h.FirstSeen)
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	body := buf.Bytes()
	fmt.Fprintf(&buf, "%s%s,%s,%s,%s%s\n", csvTrailerPrefix, Algorithm, s.KeyID,
		base64.StdEncoding.EncodeToString(s.Public), base64.StdEncoding.EncodeToString(s.Sign(body)), csvTrailerPad)
	return buf.Bytes(), nil
}

// pdfMeta is the metadata line of a PDF export.
type pdfMeta struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Title          string    `json:"title"`
	GeneratedAt    string    `json:"generated_at"`
	AuditChainHead ChainHead `json:"audit_chain_head"`
}

func exportPDF(doc Document, s Signer) ([]byte, error) {
	body, err := renderPDF(doc, s.KeyID)
	if err != nil {
		return nil, err
	}
	meta, err := Canonical(pdfMeta{ID: doc.ID, Kind: doc.Kind, Title: doc.Title, GeneratedAt: doc.GeneratedAt,
		AuditChainHead: doc.AuditChainHead})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(body)
	if !bytes.HasSuffix(body, []byte("\n")) {
		buf.WriteByte('\n')
	}
	buf.WriteString(pdfMetaPrefix)
	buf.Write(meta)
	buf.WriteByte('\n')
	signed := buf.Bytes()
	fmt.Fprintf(&buf, "%s%s %s %s %s\n", pdfTrailerPrefix, Algorithm, s.KeyID,
		base64.StdEncoding.EncodeToString(s.Public), base64.StdEncoding.EncodeToString(s.Sign(signed)))
	return buf.Bytes(), nil
}
