package change_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
)

// TestApprovalFourEyesAndBadInput: a patch job touching an environment that needs approval
// waits for a second person; its requester cannot approve it; a second admin can; bad
// input is a 400 naming the field; roles without the permissions are refused.
func TestApprovalFourEyesAndBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	host, _ := f.target("prod-1")
	_, err := f.env.App.Pool.Exec(context.Background(), `UPDATE hosts SET environment = 'production' WHERE id = $1`, host)
	require.NoError(t, err)
	other := f.env.Login("approver", f.env.CreateUser("approver", "admin"))
	viewer := f.env.Login("watcher", f.env.CreateUser("watcher", "viewer"))

	res := f.do(f.admin, http.MethodGet, "system/changes/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var st api.ChangeSettings
	res.Decode(t, &st)
	require.Equal(t, []string{"production"}, st.ApprovalEnvironments, "production needs approval by default")
	require.True(t, st.RemediationRequiresApproval)

	body := map[string]any{"host_ids": []uuid.UUID{host}, "patch": map[string]any{"mode": "security"}, "reason": "monthly"}
	res = f.do(f.admin, http.MethodPost, "jobs", body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusPendingApproval, j.Status)
	require.True(t, j.ApprovalRequired)
	id := j.Id.String()
	res = f.do(other, http.MethodGet, "notifications/feed", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "Approval needed", "approvers are told in their feed")
	require.Contains(t, string(res.Body), "/jobs/"+id)

	res = f.do(f.admin, http.MethodPost, "jobs/"+id+":approve", map[string]any{"reason": "mine"})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Equal(t, "four_eyes", res.Err(t).Error.Detail["reason"])
	res = f.do(viewer, http.MethodPost, "jobs/"+id+":approve", map[string]any{"reason": "x"})
	require.Equal(t, http.StatusForbidden, res.Status, "a viewer holds no patch:approve")
	res = f.do(other, http.MethodPost, "jobs/"+id+":approve", map[string]any{"reason": ""})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = f.do(other, http.MethodPost, "jobs/"+id+":resume", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "pending_approval", res.Err(t).Error.Detail["state"])
	res = f.do(other, http.MethodPost, "jobs/"+id+":approve", map[string]any{"reason": "checked the package list"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusRunning, j.Status, "an approved patch job starts")
	require.Equal(t, "approver", j.DecidedBy.Name)
	res = f.do(f.admin, http.MethodGet, "notifications/feed", nil)
	require.Contains(t, string(res.Body), "Your patch job was approved", "the requester hears the decision")
	// The host has no window: it waits; cancel stops the job before it.
	f.waitJob(j.Id, func(api.ChangeJob) bool { return f.hosts(j.Id)["prod-1"].Status == api.ChangeHostStatusWaitingWindow })
	res = f.do(other, http.MethodPost, "jobs/"+id+":cancel", map[string]any{"reason": "not this month"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusCancelled, j.Status)
	require.Equal(t, 1, j.Counts.Cancelled)

	res = f.do(viewer, http.MethodGet, "jobs", nil)
	require.Equal(t, http.StatusOK, res.Status, "a viewer reads patch jobs")
	var page api.ChangeJobPage
	res.Decode(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, []string{"prod-1"}, page.Items[0].HostNames)
	res = f.do(viewer, http.MethodPost, "jobs", body)
	require.Equal(t, http.StatusForbidden, res.Status)

	bad := []struct {
		field string
		body  map[string]any
	}{
		{"selector", map[string]any{"patch": map[string]any{"mode": "all"}}},
		{"selector", map[string]any{"host_ids": []uuid.UUID{host}, "all": true, "patch": map[string]any{"mode": "all"}}},
		{"host_ids", map[string]any{"host_ids": []uuid.UUID{uuid.New()}, "patch": map[string]any{"mode": "all"}}},
		{"patch.packages", map[string]any{"all": true, "patch": map[string]any{"mode": "packages"}}},
		{"patch.packages", map[string]any{"all": true, "patch": map[string]any{"mode": "all",
			"packages": []map[string]any{{"name": "x", "op": "install"}}}}},
		{"override_reason", map[string]any{"all": true, "patch": map[string]any{"mode": "all"}, "ignore_windows": true}},
		{"health_check_ids", map[string]any{"all": true, "patch": map[string]any{"mode": "all"}, "health_check_ids": []uuid.UUID{uuid.New()}}},
		{"reboot", map[string]any{"all": true, "patch": map[string]any{"mode": "all"}, "reboot": "sometimes"}},
		{"waves.canary", map[string]any{"all": true, "patch": map[string]any{"mode": "all"}, "waves": map[string]any{"canary": 0}}},
		{"failure_budget.max_failure_percent", map[string]any{"all": true, "patch": map[string]any{"mode": "all"},
			"failure_budget": map[string]any{"max_failure_percent": 101}}},
	}
	for _, c := range bad {
		res := f.do(f.admin, http.MethodPost, "jobs", c.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", c.field, res.Body)
		require.Contains(t, string(res.Body), c.field, "the error names the field")
	}
	res = f.do(f.admin, http.MethodPut, "system/changes/config", map[string]any{"approval_environments": []string{" "},
		"remediation_requires_approval": true})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodPut, "system/changes/config", map[string]any{"approval_environments": []string{},
		"remediation_requires_approval": true})
	require.Equal(t, http.StatusForbidden, res.Status)
	res = f.do(f.admin, http.MethodGet, "jobs/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	res = f.do(f.admin, http.MethodGet, "jobs?status=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res.Status)
}
