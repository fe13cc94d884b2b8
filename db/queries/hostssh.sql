-- name: HostSSHTarget :one
-- HostSSHTarget returns where and as whom to connect to a live host.
SELECT host(ip_address)::text AS address, port, username
FROM live_hosts WHERE id = @id;

-- name: HostSSHHostExists :one
SELECT EXISTS (SELECT 1 FROM live_hosts WHERE id = @id)::boolean;

-- name: HostSSHKeySeen :one
-- HostSSHKeySeen marks the trusted key as seen when it is the presented one; no row means
-- it is not (no trusted key, or another one).
UPDATE host_ssh_keys SET last_seen_at = now()
WHERE host_id = @host_id AND status = 'trusted' AND fingerprint_sha256 = @fingerprint_sha256
RETURNING id;

-- name: HostSSHKeyTrustFirst :one
-- HostSSHKeyTrustFirst stores a key as trusted unless the host already has a trusted key
-- (then no row comes back).
INSERT INTO host_ssh_keys (id, host_id, key_type, fingerprint_sha256, public_key, status)
VALUES (@id, @host_id, @key_type, @fingerprint_sha256, @public_key, 'trusted')
ON CONFLICT (host_id) WHERE status = 'trusted' DO NOTHING
RETURNING id;

-- name: HostSSHKeyTrusted :one
SELECT * FROM host_ssh_keys WHERE host_id = @host_id AND status = 'trusted';

-- name: HostSSHKeyPutPending :one
-- HostSSHKeyPutPending records a key other than the trusted one as the host's pending key,
-- replacing an older pending key. is_new is true when the key was not the pending one
-- already.
INSERT INTO host_ssh_keys AS k (id, host_id, key_type, fingerprint_sha256, public_key, status)
VALUES (@id, @host_id, @key_type, @fingerprint_sha256, @public_key, 'pending')
ON CONFLICT (host_id) WHERE status = 'pending' DO UPDATE SET
    key_type = EXCLUDED.key_type,
    public_key = EXCLUDED.public_key,
    first_seen_at = CASE WHEN k.fingerprint_sha256 = EXCLUDED.fingerprint_sha256 THEN k.first_seen_at ELSE now() END,
    fingerprint_sha256 = EXCLUDED.fingerprint_sha256,
    last_seen_at = now()
RETURNING (first_seen_at = last_seen_at)::boolean AS is_new;

-- name: HostSSHKeyList :many
-- HostSSHKeyList returns a host's keys, the trusted one first.
SELECT * FROM host_ssh_keys WHERE host_id = @host_id
ORDER BY status DESC, first_seen_at, id;

-- name: HostSSHKeyPendingLock :one
SELECT * FROM host_ssh_keys
WHERE host_id = @host_id AND status = 'pending' AND fingerprint_sha256 = @fingerprint_sha256
FOR UPDATE;

-- name: HostSSHKeyDeleteTrusted :many
DELETE FROM host_ssh_keys WHERE host_id = @host_id AND status = 'trusted'
RETURNING fingerprint_sha256;

-- name: HostSSHKeyApprove :exec
UPDATE host_ssh_keys SET status = 'trusted', approved_by = @approved_by, approved_at = now()
WHERE id = @id;

-- name: HostSSHKeyDeleteAll :many
DELETE FROM host_ssh_keys WHERE host_id = @host_id
RETURNING fingerprint_sha256, status;

-- name: HostSSHPrivilege :one
SELECT privilege FROM host_ssh_state WHERE host_id = @host_id;

-- name: HostSSHSetPrivilege :exec
INSERT INTO host_ssh_state (host_id, privilege, updated_at) VALUES (@host_id, @privilege, now())
ON CONFLICT (host_id) DO UPDATE SET privilege = EXCLUDED.privilege, updated_at = now();

-- name: HostSSHCertVerified :one
-- HostSSHCertVerified reports whether the host is verified against the host CA: it has a
-- host certificate on record (issued, renewed, enrolled or revoked since).
SELECT EXISTS (SELECT 1 FROM ssh_host_certificates WHERE host_id = @host_id)::boolean;

-- name: HostSSHCertBySerial :one
-- HostSSHCertBySerial returns the recorded host certificate with a serial.
SELECT id, host_id, status FROM ssh_host_certificates WHERE serial = @serial;

-- name: HostSSHNames :one
SELECT hostname, host(ip_address)::text AS address FROM live_hosts WHERE id = @id;
