package scan

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toScanConfig(c ScheduleConfig) api.ScanConfig {
	iv := c.IntervalMinutes
	return api.ScanConfig{
		Enabled: c.Enabled,
		IntervalMinutes: api.ScanIntervals{Unknown: iv.Unknown, Critical: iv.Critical, Low: iv.Low, Partial: iv.Partial,
			Compliant: iv.Compliant},
		RateLimitPerMinute: c.RateLimitPerMinute, MaxConcurrent: c.MaxConcurrent,
		ScanRetentionDays: c.ScanRetentionDays, EvidenceRetentionDays: c.EvidenceRetentionDays,
	}
}

func fromScanConfig(c api.ScanConfig) ScheduleConfig {
	iv := c.IntervalMinutes
	return ScheduleConfig{
		Enabled: c.Enabled,
		IntervalMinutes: Intervals{Unknown: iv.Unknown, Critical: iv.Critical, Low: iv.Low, Partial: iv.Partial,
			Compliant: iv.Compliant},
		RateLimitPerMinute: c.RateLimitPerMinute, MaxConcurrent: c.MaxConcurrent,
		ScanRetentionDays: c.ScanRetentionDays, EvidenceRetentionDays: c.EvidenceRetentionDays,
	}
}

func toScanConfigResponse(c ScheduleConfig) api.ScanConfigResponse {
	return api.ScanConfigResponse{Config: toScanConfig(c), Defaults: toScanConfig(DefaultScheduleConfig)}
}

func toSchedulePreview(p SchedulePreview) api.ScanSchedulePreview {
	out := api.ScanSchedulePreview{Enabled: p.Enabled, GeneratedAt: p.GeneratedAt, DueNow: p.DueNow,
		NotSchedulable: p.NotSchedulable, Items: make([]api.ScanScheduleItem, len(p.Items))}
	b := &out.HostsByBand
	b.Unknown, b.Critical, b.Low = p.HostsByBand[BandUnknown], p.HostsByBand[BandCritical], p.HostsByBand[BandLow]
	b.Partial, b.Compliant = p.HostsByBand[BandPartial], p.HostsByBand[BandCompliant]
	for i, it := range p.Items {
		out.Items[i] = api.ScanScheduleItem{HostId: it.HostID, Hostname: it.Hostname, Band: api.ScanBand(it.Band),
			PassingFraction: it.PassingFraction, LastScanAt: it.LastScanAt, NextScanAt: it.NextScanAt}
	}
	return out
}
