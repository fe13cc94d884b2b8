package hostkey

import (
	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/hostssh"
)

func keyList(hostID uuid.UUID, rows []dbq.HostSshKey) api.HostKeyList {
	out := api.HostKeyList{HostId: hostID, Keys: make([]api.HostKey, 0, len(rows))}
	for _, r := range rows {
		out.Keys = append(out.Keys, api.HostKey{
			KeyType: r.KeyType, FingerprintSha256: r.FingerprintSha256, PublicKey: r.PublicKey,
			Status: api.HostKeyStatus(r.Status), FirstSeenAt: r.FirstSeenAt, LastSeenAt: r.LastSeenAt,
			ApprovedBy: r.ApprovedBy, ApprovedAt: r.ApprovedAt,
		})
	}
	return out
}

func toAPIConfig(c hostssh.Config) api.SSHConfig {
	return api.SSHConfig{AllowSudoPassword: c.AllowSudoPassword, DialTimeoutSec: c.DialTimeoutSec,
		CommandTimeoutSec: c.CommandTimeoutSec}
}

func fromAPIConfig(c api.SSHConfig) hostssh.Config {
	return hostssh.Config{AllowSudoPassword: c.AllowSudoPassword, DialTimeoutSec: c.DialTimeoutSec,
		CommandTimeoutSec: c.CommandTimeoutSec}
}
