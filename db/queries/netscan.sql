-- name: NetscanInsert :one
INSERT INTO discovery_scans (id, cidr, ports, total, created_by)
VALUES (@id, @cidr, @ports, @total, @created_by)
RETURNING *;

-- name: NetscanGet :one
SELECT * FROM discovery_scans WHERE id = @id;

-- name: NetscanStart :one
-- NetscanStart marks a scan running (again, after a crash) and returns it; a finished scan
-- is returned unchanged.
UPDATE discovery_scans
SET status = 'running', started_at = COALESCE(started_at, now()), scanned = 0
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: NetscanProgress :one
-- NetscanProgress records how many tries are done and counts the servers found so far.
UPDATE discovery_scans
SET scanned = @scanned, found = (SELECT count(*) FROM discovery_scan_hosts h WHERE h.scan_id = @id)
WHERE id = @id
RETURNING found;

-- name: NetscanFinish :one
UPDATE discovery_scans
SET status = @status, error = sqlc.narg(error), scanned = @scanned, finished_at = now(),
    found = (SELECT count(*) FROM discovery_scan_hosts h WHERE h.scan_id = @id)
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: NetscanHostInsert :one
-- NetscanHostInsert records a found server once; a repeat (a re-run job) inserts nothing
-- and returns no row.
INSERT INTO discovery_scan_hosts (scan_id, address, port, ssh_banner, response_time_ms)
VALUES (@scan_id, @address, @port, @ssh_banner, @response_time_ms)
ON CONFLICT (scan_id, address, port) DO NOTHING
RETURNING found_at;

-- name: NetscanHosts :many
SELECT scan_id, address, port, ssh_banner, response_time_ms, found_at, registered_host_id
FROM discovery_scan_hosts WHERE scan_id = @scan_id
ORDER BY address, port;

-- name: NetscanAddressHosts :many
-- NetscanAddressHosts returns the ports an address answered on in a scan, locking them.
SELECT port, registered_host_id
FROM discovery_scan_hosts WHERE scan_id = @scan_id AND address = @address
ORDER BY port
FOR UPDATE;

-- name: NetscanRegistered :exec
UPDATE discovery_scan_hosts SET registered_host_id = @host_id
WHERE scan_id = @scan_id AND address = @address;
