package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the audit operations.
type Handlers struct {
	w *Writer
}

// NewHandlers returns the audit handlers.
func NewHandlers(w *Writer) *Handlers { return &Handlers{w: w} }

// MaxExportRows bounds one export.
const MaxExportRows = 100_000

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ListAuditEvents implements GET /audit/events (audit:read).
func (h *Handlers) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	p := req.Params
	f := Filter{Action: str(p.Action), CorrelationID: str(p.CorrelationId), ResourceType: str(p.ResourceType),
		ResourceID: str(p.ResourceId), Since: p.Since, Until: p.Until}
	if p.ActorType != nil {
		f.ActorType = string(*p.ActorType)
	}
	page, err := cursor.Serve(ctx, h.w.Cursors(), p.Cursor, p.Limit, cursor.Limits(api.ListAuditEventsPageLimit()),
		func(ctx context.Context, r cursor.Request[int64]) (cursor.Page[Stored], error) {
			return h.w.List(ctx, f, r)
		}, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListAuditEvents200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// ExportAuditEvents implements GET /audit/events:export (audit:export, license audit_export).
func (h *Handlers) ExportAuditEvents(ctx context.Context, req api.ExportAuditEventsRequestObject) (api.ExportAuditEventsResponseObject, error) {
	p := req.Params
	f := Filter{Action: str(p.Action), CorrelationID: str(p.CorrelationId), ResourceType: str(p.ResourceType),
		ResourceID: str(p.ResourceId), Since: p.Since, Until: p.Until}
	if p.ActorType != nil {
		f.ActorType = string(*p.ActorType)
	}
	var events []Stored
	r := cursor.First(h.w.Cursors(), api.ListAuditEventsPageLimit().Max)
	for len(events) < MaxExportRows {
		page, err := h.w.List(ctx, f, r)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Items...)
		if page.Next == nil {
			break
		}
		last := page.Items[len(page.Items)-1].Seq
		r.After = &last
	}
	if len(events) > MaxExportRows {
		events = events[:MaxExportRows]
	}
	format := "json"
	if p.Format != nil {
		format = string(*p.Format)
	}
	if err := h.w.AppendAlone(ctx, For(ctx, authz.PrincipalFrom(ctx), ActionAuditExported, "audit", "",
		map[string]any{"format": format, "rows": len(events)})); err != nil {
		return nil, err
	}
	if format == "csv" {
		body, err := toCSV(events)
		if err != nil {
			return nil, err
		}
		return api.ExportAuditEvents200TextcsvResponse{Body: bytes.NewReader(body), ContentLength: int64(len(body))}, nil
	}
	out := make(api.ExportAuditEvents200JSONResponse, 0, len(events))
	for _, e := range events {
		out = append(out, toAPI(e))
	}
	return out, nil
}

// GetAuditIntegrity implements GET /audit/integrity (audit:read).
func (h *Handlers) GetAuditIntegrity(ctx context.Context, _ api.GetAuditIntegrityRequestObject) (api.GetAuditIntegrityResponseObject, error) {
	c, ok, err := h.w.LastCheck(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return api.GetAuditIntegrity200JSONResponse{}, nil
	}
	r := c.Result
	out := api.GetAuditIntegrity200JSONResponse{VerifiedAt: &c.VerifiedAt, Ok: &r.OK, Checked: r.Checked,
		FirstBrokenSeq: r.FirstBrokenSeq, LastOkAt: c.LastOKAt}
	if r.Reason != "" {
		out.Reason = &r.Reason
	}
	return out, nil
}

// VerifyAuditIntegrity implements POST /audit/integrity:verify (audit:verify).
func (h *Handlers) VerifyAuditIntegrity(ctx context.Context, _ api.VerifyAuditIntegrityRequestObject) (api.VerifyAuditIntegrityResponseObject, error) {
	r, err := h.w.Verify(ctx)
	if err != nil {
		return nil, err
	}
	out := api.VerifyAuditIntegrity200JSONResponse{Ok: r.OK, Checked: r.Checked, FirstBrokenSeq: r.FirstBrokenSeq}
	if r.Reason != "" {
		out.Reason = &r.Reason
	}
	detail := map[string]any{"ok": r.OK, "checked": r.Checked}
	if r.FirstBrokenSeq != nil {
		detail["first_broken_seq"] = *r.FirstBrokenSeq
	}
	if err := h.w.AppendAlone(ctx, For(ctx, authz.PrincipalFrom(ctx), ActionAuditVerified, "audit", "", detail)); err != nil {
		return nil, err
	}
	return out, nil
}

func toAPI(e Stored) api.AuditEvent {
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	red := e.Redactions
	if red == nil {
		red = []string{}
	}
	addr := e.ClientAddr
	return api.AuditEvent{
		Id: e.ID, Seq: e.Seq, CorrelationId: e.CorrelationID, Action: string(e.Action),
		Severity: api.AuditEventSeverity(e.Severity), ActorType: e.ActorType, ActorId: e.ActorID,
		ResourceType: e.ResourceType, ResourceId: e.ResourceID, ClientAddr: &addr,
		OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Detail: detail, Redactions: red,
	}
}

// formulaSafe keeps a spreadsheet from running a cell as a formula.
func formulaSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func toCSV(events []Stored) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"seq", "occurred_at", "recorded_at", "action", "severity", "actor_type", "actor_id",
		"resource_type", "resource_id", "correlation_id", "client_addr", "detail", "redactions"})
	for _, e := range events {
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return nil, err
		}
		row := []string{strconv.FormatInt(e.Seq, 10), e.OccurredAt.UTC().Format(time.RFC3339Nano), e.RecordedAt.UTC().Format(time.RFC3339Nano),
			string(e.Action), string(e.Severity), e.ActorType, str(e.ActorID), str(e.ResourceType), str(e.ResourceID),
			e.CorrelationID, e.ClientAddr, string(detail), strings.Join(e.Redactions, " ")}
		for i := range row {
			row[i] = formulaSafe(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
