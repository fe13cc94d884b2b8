package scan

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func fromScanBatchRequest(b api.ScanBatchRequest) BatchRequest {
	r := BatchRequest{Selector: Selector{GroupID: b.GroupId, All: b.All, Filter: fromScanBatchFilter(b.Filter)},
		Framework: deref(b.Framework)}
	if b.HostIds != nil {
		r.Selector.HostIDs = *b.HostIds
	}
	if b.RuleIds != nil {
		r.RuleIDs = *b.RuleIds
	}
	if b.Concurrency != nil {
		r.Concurrency = *b.Concurrency
	}
	return r
}

func fromScanBatchFilter(f *api.ScanBatchFilter) *HostFilter {
	if f == nil {
		return nil
	}
	return &HostFilter{Environment: f.Environment, Tag: f.Tag, GroupID: f.GroupId, Q: f.Q}
}

func toScanBatchFilter(f *HostFilter) *api.ScanBatchFilter {
	if f == nil {
		return nil
	}
	return &api.ScanBatchFilter{Environment: f.Environment, Tag: f.Tag, GroupId: f.GroupID, Q: f.Q}
}

func toScanBatch(b Batch) api.ScanBatch {
	out := api.ScanBatch{
		Id: b.ID, Status: api.ScanBatchStatus(b.Status), Framework: b.Framework, Concurrency: int(b.Concurrency),
		HostsTotal: int(b.HostsTotal), HostsSkipped: int(b.HostsSkipped), RequestedBy: b.RequestedBy,
		CreatedAt: b.CreatedAt, FinishedAt: b.FinishedAt,
		Progress: api.ScanBatchProgress{Queued: b.Progress.Queued, Running: b.Progress.Running,
			Completed: b.Progress.Completed, Failed: b.Progress.Failed, Cancelled: b.Progress.Cancelled},
	}
	if b.RuleIds != nil {
		ids := b.RuleIds
		out.RuleIds = &ids
	}
	sel := b.Selector
	out.Selector.GroupId, out.Selector.All, out.Selector.Filter = sel.GroupID, sel.All, toScanBatchFilter(sel.Filter)
	if sel.HostIDs != nil {
		ids := sel.HostIDs
		out.Selector.HostIds = &ids
	}
	return out
}
