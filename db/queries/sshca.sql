-- name: SSHCAKeyActive :one
SELECT * FROM ssh_ca_keys WHERE kind = @kind AND retired_at IS NULL;

-- name: SSHCAKeyActiveLock :one
SELECT * FROM ssh_ca_keys WHERE kind = @kind AND retired_at IS NULL FOR UPDATE;

-- name: SSHCAKeyInsert :one
-- SSHCAKeyInsert adds the active key of a kind; a concurrent first use loses on the
-- unique index and returns no row.
INSERT INTO ssh_ca_keys (id, kind, key_id, public_key, fingerprint_sha256, private_key_sealed)
VALUES (@id, @kind, @key_id, @public_key, @fingerprint_sha256, @private_key_sealed)
ON CONFLICT (kind) WHERE retired_at IS NULL DO NOTHING
RETURNING *;

-- name: SSHCAKeyRetire :exec
UPDATE ssh_ca_keys SET retired_at = @now::timestamptz, trusted_until = @trusted_until::timestamptz
WHERE id = @id AND retired_at IS NULL;

-- name: SSHCAKeyTrusted :many
-- SSHCAKeyTrusted returns the keys of a kind that are trusted at now: the active one
-- first, then retired ones still in their overlap, newest first.
SELECT * FROM ssh_ca_keys
WHERE kind = @kind AND (retired_at IS NULL OR trusted_until > @now::timestamptz)
ORDER BY retired_at IS NOT NULL, created_at DESC, id;

-- name: SSHCertNextSerial :one
SELECT nextval('ssh_cert_serial_seq')::bigint;

-- name: SSHHostCertInsert :one
INSERT INTO ssh_host_certificates (id, serial, host_id, ca_key_id, key_type, fingerprint_sha256,
    principals, certificate, valid_after, valid_before, renewed_from, issued_by)
VALUES (@id, @serial, @host_id, @ca_key_id, @key_type, @fingerprint_sha256,
    @principals, @certificate, @valid_after, @valid_before, @renewed_from, @issued_by)
RETURNING *;

-- name: SSHHostCertLock :one
SELECT c.* FROM ssh_host_certificates c JOIN live_hosts h ON h.id = c.host_id
WHERE c.id = @id FOR UPDATE OF c;

-- name: SSHHostCertRevoke :one
UPDATE ssh_host_certificates
SET status = 'revoked', revoked_at = @now::timestamptz, revoked_by = @revoked_by, revoke_reason = @reason
WHERE id = @id AND status = 'issued'
RETURNING *;

-- name: SSHHostCertList :many
-- SSHHostCertList pages the certificates of live hosts, newest first, optionally of one
-- host and of one status ('expired' = issued and past valid_before at now), optionally
-- only issued ones still valid that expire by expires_before.
SELECT c.* FROM ssh_host_certificates c JOIN live_hosts h ON h.id = c.host_id
WHERE (sqlc.narg(host_id)::uuid IS NULL OR c.host_id = sqlc.narg(host_id))
  AND (sqlc.narg(status)::text IS NULL
       OR (sqlc.narg(status) = 'revoked' AND c.status = 'revoked')
       OR (sqlc.narg(status) = 'issued' AND c.status = 'issued' AND c.valid_before > @now::timestamptz)
       OR (sqlc.narg(status) = 'expired' AND c.status = 'issued' AND c.valid_before <= @now::timestamptz))
  AND (sqlc.narg(expires_before)::timestamptz IS NULL
       OR (c.status = 'issued' AND c.valid_before > @now::timestamptz AND c.valid_before <= sqlc.narg(expires_before)))
  AND (sqlc.narg(after_created)::timestamptz IS NULL
       OR (c.created_at, c.id) < (sqlc.narg(after_created), sqlc.narg(after_id)::uuid))
ORDER BY c.created_at DESC, c.id DESC
LIMIT @lim;

-- name: SSHHostCertRevokedSerials :many
-- SSHHostCertRevokedSerials returns the serials of revoked certificates not yet expired,
-- with the public key of the CA that signed each.
SELECT c.serial, k.public_key AS ca_public_key FROM ssh_host_certificates c
JOIN ssh_ca_keys k ON k.id = c.ca_key_id
WHERE c.status = 'revoked' AND c.valid_before > @now::timestamptz
ORDER BY k.public_key, c.serial;

-- name: SSHHostTrustedKey :one
SELECT * FROM host_ssh_keys WHERE host_id = @host_id AND status = 'trusted';

-- name: SSHHostNames :one
SELECT hostname, host(ip_address)::text AS address FROM live_hosts WHERE id = @id;

-- name: RekeySSHCAKeyList :many
SELECT id, private_key_sealed AS sealed FROM ssh_ca_keys ORDER BY id FOR UPDATE;

-- name: RekeySSHCAKeySet :exec
UPDATE ssh_ca_keys SET private_key_sealed = @sealed WHERE id = @id;

-- name: SSHCAKeyByID :one
SELECT key_id FROM ssh_ca_keys WHERE id = @id;

-- name: SSHHostCertRevokeIssuedOfHost :many
-- SSHHostCertRevokeIssuedOfHost revokes every still-issued certificate of a host but keep.
UPDATE ssh_host_certificates
SET status = 'revoked', revoked_at = @now::timestamptz, revoked_by = @revoked_by, revoke_reason = @reason
WHERE host_id = @host_id AND status = 'issued' AND id <> @keep
RETURNING *;

-- name: SSHHostCertExpiring :many
-- SSHHostCertExpiring returns the issued certificates of live hosts that expire by until
-- (or have expired) and were not renewed since.
SELECT c.* FROM ssh_host_certificates c JOIN live_hosts h ON h.id = c.host_id
WHERE c.status = 'issued' AND c.valid_before <= @until::timestamptz
  AND NOT EXISTS (SELECT 1 FROM ssh_host_certificates n WHERE n.renewed_from = c.id)
ORDER BY c.valid_before, c.id;

-- name: SSHCertExpiringAlertKeys :many
-- SSHCertExpiringAlertKeys returns the dedup keys of the live certificate expiry alerts.
SELECT dedup_key FROM alerts
WHERE alert_type = 'ssh_certificate_expiring' AND state IN ('active', 'acknowledged', 'silenced');

-- name: SSHHostCertNewestIssued :one
-- SSHHostCertNewestIssued returns the newest issued, unexpired certificate of a live host.
SELECT c.* FROM ssh_host_certificates c JOIN live_hosts h ON h.id = c.host_id
WHERE c.host_id = @host_id AND c.status = 'issued' AND c.valid_before > @now::timestamptz
ORDER BY c.created_at DESC, c.id DESC
LIMIT 1;

-- name: SSHHostCertSetDelivery :exec
-- SSHHostCertSetDelivery records the outcome of delivering a certificate to its host:
-- delivered_at on success (the error cleared), delivery_error on failure.
UPDATE ssh_host_certificates
SET delivered_at = COALESCE(sqlc.narg(delivered_at)::timestamptz, delivered_at), delivery_error = sqlc.narg(delivery_error)
WHERE id = @id;

-- name: SSHTrustDeliveryHosts :many
-- SSHTrustDeliveryHosts returns the live hosts OpenWatch keeps its files on (the trusted
-- user CA keys, the KRL): those with an issued, unexpired host certificate, and those
-- with a pinned host key whose credential (the newest active host-scoped one, else the
-- system default) is a certificate credential.
SELECT h.id FROM live_hosts h
WHERE EXISTS (SELECT 1 FROM ssh_host_certificates c
              WHERE c.host_id = h.id AND c.status = 'issued' AND c.valid_before > @now::timestamptz)
   OR (EXISTS (SELECT 1 FROM host_ssh_keys k WHERE k.host_id = h.id AND k.status = 'trusted')
       AND COALESCE(
           (SELECT cr.auth_method FROM ssh_credentials cr
            WHERE cr.scope = 'host' AND cr.scope_id = h.id AND cr.is_active AND cr.deleted_at IS NULL
            ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1),
           (SELECT cr.auth_method FROM ssh_credentials cr
            WHERE cr.is_default AND cr.is_active AND cr.deleted_at IS NULL AND cr.scope = 'system' LIMIT 1)
       ) = 'certificate')
ORDER BY h.id;

-- name: SSHCertDeliveryLock :exec
-- SSHCertDeliveryLock serializes the deliveries to one host until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('ssh_certificate_delivery:' || @host_id::text, 0));

-- name: SSHCAKeyTrustEnded :many
-- SSHCAKeyTrustEnded returns the retired keys of a kind whose overlap has ended at now:
-- the keys the KRL revokes outright.
SELECT * FROM ssh_ca_keys
WHERE kind = @kind AND retired_at IS NOT NULL AND trusted_until <= @now::timestamptz
ORDER BY public_key;
