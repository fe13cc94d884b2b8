package change_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestRebootPolicy: with reboot always, a host is rebooted after its change, the job
// waits until it answers with a new boot id, and the post-checks run after that. The
// target's reboot is a stub (in its overlaid /usr) that gives its fake /proc/sys a new
// boot id: this machine never reboots.
func TestRebootPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := sshtest.Start(t, sshtest.Options{Overlay: []string{"/etc", "/usr"},
		Sysctl: map[string]string{"kernel.random.boot_id": "11111111-1111-1111-1111-111111111111"}})
	c := srv.Dial(t, sshtest.UserRoot)
	res, err := c.Run(t.Context(), `cat > /usr/local/sbin/systemctl <<'STUB'
#!/bin/sh
[ "$1" = reboot ] || exit 1
echo 22222222-2222-2222-2222-222222222222 > /proc/sys/kernel/random/boot_id
STUB
chmod 0755 /usr/local/sbin/systemctl`)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	host := f.register("reboot-me", srv)

	r := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": []uuid.UUID{host}, "patch": map[string]any{"mode": "all"},
		"reboot": "always", "health_check_ids": []uuid.UUID{f.health}, "ignore_windows": true, "override_reason": "test"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var j api.ChangeJob
	r.Decode(t, &j)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusCompleted, api.ChangeJobStatusHalted, api.ChangeJobStatusFailed))
	h := f.hosts(j.Id)["reboot-me"]
	require.Equal(t, api.ChangeJobStatusCompleted, j.Status, "%v", h.Error)
	require.True(t, h.Rebooted)
	var order []string
	back := ""
	for _, st := range f.steps(j.Id, host) {
		order = append(order, string(st.Phase))
		if st.Name == "host back" {
			back = st.Stdout
		}
	}
	require.Equal(t, "precheck capture apply reboot reboot postcheck", strings.Join(order, " "))
	require.Contains(t, back, "11111111-1111-1111-1111-111111111111 → 22222222-2222-2222-2222-222222222222")
}
