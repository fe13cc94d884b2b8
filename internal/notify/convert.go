package notify

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPI(c Channel) api.NotificationChannel {
	cfg := api.NotificationChannelConfig{}
	set := func(dst **string, v string) {
		if v != "" {
			*dst = &v
		}
	}
	set(&cfg.Url, c.Config.URL)
	set(&cfg.SmtpHost, c.Config.SMTPHost)
	set(&cfg.Username, c.Config.Username)
	set(&cfg.From, c.Config.From)
	if c.Config.SMTPPort != 0 {
		cfg.SmtpPort = &c.Config.SMTPPort
	}
	if c.Config.TLSMode != "" {
		m := api.NotificationChannelConfigTlsMode(c.Config.TLSMode)
		cfg.TlsMode = &m
	}
	if c.Config.To != nil {
		cfg.To = &c.Config.To
	}
	sev := api.NotificationSeverity(c.Routing.MinSeverity)
	return api.NotificationChannel{
		Id: c.ID, Name: c.Name, Type: api.NotificationChannelType(c.Type), Enabled: c.Enabled, Config: cfg,
		SecretSet: c.SecretSet, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Routing: api.NotificationRouting{MinSeverity: &sev, AlertTypes: &c.Routing.AlertTypes,
			HostTags: &c.Routing.HostTags, GroupIds: &c.Routing.GroupIDs},
	}
}

func fromAPIConfig(c api.NotificationChannelConfig) Config {
	out := Config{URL: deref(c.Url), SMTPHost: deref(c.SmtpHost), SMTPPort: deref(c.SmtpPort),
		Username: deref(c.Username), From: deref(c.From), To: deref(c.To)}
	if c.TlsMode != nil {
		out.TLSMode = string(*c.TlsMode)
	}
	return out
}

func fromAPIRouting(r *api.NotificationRouting) Routing {
	if r == nil {
		return Routing{}
	}
	out := Routing{AlertTypes: deref(r.AlertTypes), HostTags: deref(r.HostTags), GroupIDs: deref(r.GroupIds)}
	if r.MinSeverity != nil {
		out.MinSeverity = string(*r.MinSeverity)
	}
	return out
}

func toAPIDelivery(d Delivery) api.NotificationDelivery {
	return api.NotificationDelivery{
		Id: d.ID, ChannelId: d.ChannelID, AlertId: d.AlertID, ReportId: d.ReportID, Transition: d.Transition, Severity: d.Severity,
		Title: d.Title, Status: api.NotificationDeliveryStatus(d.Status), Attempts: int(d.Attempts),
		LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, DeliveredAt: d.DeliveredAt,
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// toAPIFeedItem renders a feed item as its reader sees it.
func toAPIFeedItem(e FeedEntry) api.FeedItem {
	it := api.FeedItem{Id: e.ID, Kind: e.Kind, Title: e.Title, Body: e.Body, Link: e.Link, AlertId: e.AlertID,
		CreatedAt: e.CreatedAt, ReadAt: e.ReadAt}
	if e.Severity != nil {
		sev := api.Severity(*e.Severity)
		it.Severity = &sev
	}
	return it
}
