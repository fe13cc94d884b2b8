package enroll

import (
	"encoding/json"

	api "github.com/openwatch/openwatch/gen/api"
)

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func fromAPIFacts(f api.EnrollmentFacts) Facts {
	return Facts{Hostname: f.Hostname, MachineID: deref(f.MachineId), OSID: deref(f.OsId), OSVersion: deref(f.OsVersion),
		OSPrettyName: deref(f.OsPrettyName), Kernel: deref(f.Kernel), Addresses: deref(f.Addresses),
		SSHAddress: deref(f.SshAddress), SSHPort: deref(f.SshPort)}
}

func toAPIFacts(raw []byte) api.EnrollmentFacts {
	var f Facts
	_ = json.Unmarshal(raw, &f) // stored by Submit from a validated Facts
	out := api.EnrollmentFacts{Hostname: f.Hostname, MachineId: opt(f.MachineID), OsId: opt(f.OSID), OsVersion: opt(f.OSVersion),
		OsPrettyName: opt(f.OSPrettyName), Kernel: opt(f.Kernel), SshAddress: opt(f.SSHAddress), SshPort: opt(f.SSHPort)}
	if len(f.Addresses) > 0 {
		out.Addresses = &f.Addresses
	}
	return out
}

func toAPIToken(t Token) api.EnrollmentToken {
	return api.EnrollmentToken{Id: t.ID, Name: t.Name, TokenPrefix: t.TokenPrefix, ExpiresAt: t.ExpiresAt,
		MaxUses: int(t.MaxUses), Uses: int(t.Uses), AutoApprove: t.AutoApprove, GroupId: t.GroupID, Environment: t.Environment,
		Tags: t.Tags, Username: t.Username, Status: api.EnrollmentTokenStatus(t.Status), CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt}
}

func toAPIRequest(r Request) api.Enrollment {
	return api.Enrollment{Id: r.ID, TokenId: r.TokenID, TokenName: r.TokenName, Status: api.EnrollmentRequestStatus(r.Status),
		Hostname: r.Hostname, Address: r.Address.String(), Port: int(r.Port), ClientAddress: r.ClientAddress,
		Facts: toAPIFacts(r.Facts), HostKeyType: r.HostKeyType, HostKeyFingerprint: r.HostKeyFingerprint, HostId: r.HostID,
		CertificateId: r.CertificateID, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, DenyReason: r.DenyReason,
		InstalledAt: r.InstalledAt, CreatedAt: r.CreatedAt}
}
