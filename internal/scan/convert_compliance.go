package scan

import (
	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
)

func toHostCompliance(hostID uuid.UUID, r HostResults) api.HostCompliance {
	out := api.HostCompliance{HostId: hostID, Framework: r.Framework, AsOf: r.AsOf, NextCursor: r.Page.Next,
		Items: make([]api.HostRuleResult, len(r.Page.Items)),
		Summary: api.ComplianceCounts{Pass: r.Summary.Pass, Fail: r.Summary.Fail, Skipped: r.Summary.Skipped,
			Error: r.Summary.Error, CriticalFailing: r.Summary.CriticalFailing, PassingFraction: r.Summary.Fraction(),
			Excepted: r.Summary.Excepted},
	}
	for i, it := range r.Page.Items {
		out.Items[i] = api.HostRuleResult{RuleId: it.RuleID, Title: it.Title, Severity: api.RuleSeverity(it.Severity),
			Status: api.ResultStatus(it.Status), Reason: it.Reason, ScanId: it.ScanID, ChangedAt: it.ChangedAt,
			FirstSeenAt: it.FirstSeenAt, ExceptionId: it.ExceptionID}
	}
	return out
}

func toTrend(t Trend) api.ComplianceTrend {
	out := api.ComplianceTrend{Framework: t.Framework, Interval: api.ComplianceTrendInterval(t.Interval), Since: t.Since,
		Until: t.Until, Points: make([]api.CompliancePoint, len(t.Points))}
	for i, p := range t.Points {
		out.Points[i] = api.CompliancePoint{At: p.At, Pass: p.Pass, Fail: p.Fail, Skipped: p.Skipped, Error: p.Error,
			PassingFraction: p.Fraction(), Excepted: p.Excepted}
	}
	return out
}
