package report

import (
	"encoding/base64"

	api "github.com/openwatch/openwatch/gen/api"
)

func toAPIScope(s ScopeInput) api.ReportScope {
	return api.ReportScope{Type: api.ReportScopeType(s.Type), Id: s.ID}
}

func fromAPIScope(s *api.ReportScope) ScopeInput {
	if s == nil {
		return ScopeInput{Type: ScopeFleet}
	}
	return ScopeInput{Type: string(s.Type), ID: s.Id}
}

func toAPIParameters(p Parameters) api.ReportParameters {
	out := api.ReportParameters{AsOf: p.AsOf, Since: p.Since, Until: p.Until}
	if p.Framework != "" {
		out.Framework = &p.Framework
	}
	if p.MinSeverity != "" {
		ms := api.ReportParametersMinSeverity(p.MinSeverity)
		out.MinSeverity = &ms
	}
	return out
}

func fromAPIParameters(p *api.ReportParameters) Parameters {
	if p == nil {
		return Parameters{}
	}
	out := Parameters{AsOf: p.AsOf, Since: p.Since, Until: p.Until}
	if p.Framework != nil {
		out.Framework = *p.Framework
	}
	if p.MinSeverity != nil {
		out.MinSeverity = string(*p.MinSeverity)
	}
	return out
}

func toAPIReport(r Report) api.Report {
	out := api.Report{Id: r.ID, Kind: api.ReportKind(r.Kind), Status: api.ReportStatus(r.Status), Title: r.Title,
		Scope: toAPIScope(r.Scope), Parameters: toAPIParameters(r.Parameters), RequestedBy: r.RequestedBy,
		RequestedByName: r.RequestedByName, ScheduleId: r.ScheduleID, Progress: int(r.Progress), Error: r.Error,
		Summary: r.Summary, SigningKeyId: r.SigningKeyID, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		GeneratedAt: r.GeneratedAt, FinishedAt: r.FinishedAt}
	if r.ChainHeadSeq != nil && r.ChainHeadHash != nil {
		out.ChainHead = &api.ReportChainHead{Seq: *r.ChainHeadSeq, Hash: *r.ChainHeadHash}
	}
	return out
}

func toAPIKeys(keys []Key) api.ReportSigningKeys {
	out := api.ReportSigningKeys{Keys: make([]api.ReportSigningKey, len(keys))}
	for i, k := range keys {
		st := api.ReportSigningKeyStatus("active")
		if k.RetiredAt != nil {
			st = "retired"
		}
		out.Keys[i] = api.ReportSigningKey{KeyId: k.KeyID, Algorithm: api.Ed25519, Status: st,
			PublicKey: base64.StdEncoding.EncodeToString(k.Public), PublicKeyPem: PublicKeyPEM(k.Public),
			CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt}
	}
	return out
}

func toAPISchedule(s Schedule) api.ReportSchedule {
	return api.ReportSchedule{Id: s.ID, Name: s.Name, Kind: api.ReportKind(s.Kind), Scope: toAPIScope(s.Scope),
		Parameters: toAPIParameters(s.Parameters), Cron: s.Cron, Timezone: s.Timezone, Format: api.ReportFormat(s.Format),
		ChannelIds: s.ChannelIds, Enabled: s.Enabled, NextRunAt: s.NextRunAt, LastRunAt: s.LastRunAt,
		LastReportId: s.LastReportID, LastError: s.LastError, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}
