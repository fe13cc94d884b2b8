package host_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
)

func TestGroups(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	do := func(method, path string, body any) *apitest.Response {
		return env.Do(apitest.Request{Method: method, Path: path, Token: admin.AccessToken, JSON: body})
	}
	res := do(http.MethodPost, "groups", map[string]string{"name": "web", "description": "web tier"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var g api.HostGroup
	res.Decode(t, &g)
	require.Equal(t, http.StatusConflict, do(http.MethodPost, "groups", map[string]string{"name": "WEB"}).Status)

	var h1, h2 api.HostResponse
	do(http.MethodPost, "hosts", map[string]any{"hostname": "a.example.com", "ip_address": "10.2.0.1", "group_id": g.Id}).Decode(t, &h1)
	do(http.MethodPost, "hosts", map[string]any{"hostname": "b.example.com", "ip_address": "10.2.0.2"}).Decode(t, &h2)
	require.Equal(t, g.Id, *h1.GroupId)

	require.Equal(t, http.StatusNoContent, do(http.MethodPut, "groups/"+g.Id.String()+"/members/"+h2.Id.String(), nil).Status)
	require.Equal(t, http.StatusNoContent, do(http.MethodPut, "groups/"+g.Id.String()+"/members/"+h2.Id.String(), nil).Status, "idempotent")
	var members api.HostListResponse
	do(http.MethodGet, "groups/"+g.Id.String()+"/members", nil).Decode(t, &members)
	require.Len(t, members.Hosts, 2)
	do(http.MethodGet, "groups/"+g.Id.String(), nil).Decode(t, &g)
	require.EqualValues(t, 2, g.HostCount)

	res = do(http.MethodPost, "groups/"+g.Id.String()+":maintenance", map[string]bool{"enabled": true})
	require.Equal(t, http.StatusOK, res.Status)
	var host api.HostDetailResponse
	do(http.MethodGet, "hosts/"+h1.Id.String(), nil).Decode(t, &host)
	require.True(t, *host.Host.MaintenanceMode, "a host's effective maintenance includes its group's")
	var inMaint api.HostListResponse
	do(http.MethodGet, "hosts?maintenance=true", nil).Decode(t, &inMaint)
	require.Len(t, inMaint.Hosts, 2)

	require.Equal(t, http.StatusNoContent, do(http.MethodDelete, "groups/"+g.Id.String()+"/members/"+h1.Id.String(), nil).Status)
	host = api.HostDetailResponse{}
	do(http.MethodGet, "hosts/"+h1.Id.String(), nil).Decode(t, &host)
	require.False(t, *host.Host.MaintenanceMode, "out of the group, out of its maintenance")
	require.Nil(t, host.Host.GroupId)

	res = do(http.MethodPatch, "groups/"+g.Id.String(), map[string]string{"name": "frontend"})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, http.StatusNotFound, do(http.MethodPut, "groups/"+g.Id.String()+"/members/0190a0c4-0000-7000-8000-000000000009", nil).Status)

	var list api.HostGroupList
	do(http.MethodGet, "groups", nil).Decode(t, &list)
	require.Len(t, list.Groups, 1)
	require.Equal(t, "frontend", list.Groups[0].Name)

	require.Equal(t, http.StatusNoContent, do(http.MethodDelete, "groups/"+g.Id.String(), nil).Status)
	host = api.HostDetailResponse{}
	do(http.MethodGet, "hosts/"+h2.Id.String(), nil).Decode(t, &host)
	require.Nil(t, host.Host.GroupId, "hosts outlive their group")
	require.Equal(t, http.StatusNotFound, do(http.MethodGet, "groups/"+g.Id.String(), nil).Status)
	require.Equal(t, http.StatusNotFound, do(http.MethodGet, "groups/"+g.Id.String()+"/members", nil).Status)
	require.Equal(t, http.StatusNotFound, do(http.MethodPut, "groups/"+g.Id.String()+"/members/"+h2.Id.String(), nil).Status)
	require.Equal(t, http.StatusNotFound, do(http.MethodDelete, "groups/"+g.Id.String()+"/members/"+h2.Id.String(), nil).Status)

	var events api.AuditEventsPage
	do(http.MethodGet, "audit/events?resource_type=group", nil).Decode(t, &events)
	require.Len(t, events.Items, 7, "create, 2 joins, maintenance, leave, rename, delete")
}
