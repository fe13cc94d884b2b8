package sshca

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPICA(ca CA) api.SSHCA {
	out := api.SSHCA{Kind: api.SSHCAKind(ca.Kind), Keys: make([]api.SSHCAKey, 0, len(ca.Keys)), ReadyLines: ca.ReadyLines()}
	for _, k := range ca.Keys {
		st := api.SSHCAKeyStatus("active")
		if k.TrustedUntil != nil {
			st = "previous"
		}
		out.Keys = append(out.Keys, api.SSHCAKey{KeyId: k.KeyID, PublicKey: k.Line(), FingerprintSha256: k.Fingerprint,
			Status: st, CreatedAt: k.CreatedAt, TrustedUntil: k.TrustedUntil})
	}
	return out
}

func toAPICert(c Certificate) api.HostCertificate {
	return api.HostCertificate{
		Id: c.ID, Serial: c.Serial, HostId: c.HostID, CaKeyId: c.CAKeyID, KeyType: c.KeyType,
		FingerprintSha256: c.FingerprintSha256, Principals: c.Principals, Certificate: c.SshHostCertificate.Certificate,
		ValidAfter: c.ValidAfter, ValidBefore: c.ValidBefore, Status: api.HostCertificateStatus(c.Status),
		RenewedFrom: c.RenewedFrom, IssuedBy: c.IssuedBy, CreatedAt: c.CreatedAt,
		RevokedAt: c.RevokedAt, RevokedBy: c.RevokedBy, RevokeReason: c.RevokeReason,
		DeliveredAt: c.DeliveredAt, DeliveryError: c.DeliveryError,
	}
}
