package activity

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPI(it Item) api.Activity {
	a := api.Activity{Id: it.ID, Source: api.ActivitySource(it.Source), Severity: api.Severity(it.Severity),
		HostId: it.HostID, Title: it.Title, OccurredAt: it.OccurredAt}
	if it.Summary != "" {
		a.Summary = &it.Summary
	}
	return a
}
