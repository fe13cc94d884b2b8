-- name: VulnAdvisoryVersions :many
-- VulnAdvisoryVersions returns every stored advisory's modified time, so an import writes
-- only records newer than the stored ones.
SELECT id, modified FROM vuln_advisories;

-- name: VulnAdvisoryUpsert :batchexec
INSERT INTO vuln_advisories (id, aliases, summary, details, severity, cvss_score, cvss_vector, published, modified,
    withdrawn, source, imported_at, updated_at)
VALUES (@id, @aliases, @summary, @details, @severity, sqlc.narg(cvss_score), sqlc.narg(cvss_vector), sqlc.narg(published),
    @modified, sqlc.narg(withdrawn), @source, @at, @at)
ON CONFLICT (id) DO UPDATE SET
    aliases = EXCLUDED.aliases, summary = EXCLUDED.summary, details = EXCLUDED.details, severity = EXCLUDED.severity,
    cvss_score = EXCLUDED.cvss_score, cvss_vector = EXCLUDED.cvss_vector, published = EXCLUDED.published,
    modified = EXCLUDED.modified, withdrawn = EXCLUDED.withdrawn, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at;

-- name: VulnAffectedDelete :many
-- VulnAffectedDelete removes the affected packages of records about to be rewritten and
-- returns their (release, package) pairs, which must be matched again.
DELETE FROM vuln_affected WHERE advisory_id = ANY(@ids::text[]) RETURNING release, package;

-- name: VulnAffectedInsert :exec
-- VulnAffectedInsert writes many affected entries at once (column arrays of one length;
-- versions are newline-joined, ranges JSON text).
INSERT INTO vuln_affected (advisory_id, release, ecosystem, package, ranges, versions)
SELECT a, r, e, p, g::jsonb, CASE WHEN v = '' THEN '{}'::text[] ELSE string_to_array(v, E'\n') END
FROM (SELECT unnest(@advisory_ids::text[]) AS a, unnest(@releases::text[]) AS r, unnest(@ecosystems::text[]) AS e, unnest(@packages::text[]) AS p, unnest(@ranges::text[]) AS g, unnest(@versions::text[]) AS v) t;

-- name: VulnAffectedForPairs :many
-- VulnAffectedForPairs returns the affected entries of advisories not withdrawn for the
-- given (release, package) pairs (releases[i], packages[i]).
SELECT a.advisory_id, a.release, a.package, a.ranges, a.versions
FROM vuln_affected a
JOIN vuln_advisories v ON v.id = a.advisory_id AND v.withdrawn IS NULL
JOIN (SELECT unnest(@releases::text[]) AS release, unnest(@packages::text[]) AS package) p
    ON p.release = a.release AND p.package = a.package;

-- name: VulnAffectedPairs :many
-- VulnAffectedPairs lists every (release, package) pair some advisory names: a full match
-- walks them.
SELECT DISTINCT release, package FROM vuln_affected ORDER BY release, package;

-- name: VulnAffectedOf :many
SELECT * FROM vuln_affected WHERE advisory_id = @advisory_id ORDER BY release, package;

-- name: VulnAdvisoriesWithdrawn :many
SELECT id FROM vuln_advisories WHERE id = ANY(@ids::text[]) AND withdrawn IS NOT NULL;

-- name: VulnHostPackagesForPairs :many
SELECT hp.host_id, hp.release, hp.name, hp.version, hp.binaries
FROM vuln_host_packages hp
JOIN (SELECT unnest(@releases::text[]) AS release, unnest(@packages::text[]) AS package) p
    ON p.release = hp.release AND p.package = hp.name;

-- name: VulnHostPackagesOfHost :many
SELECT host_id, release, name, version, binaries FROM vuln_host_packages WHERE host_id = @host_id;

-- name: VulnHostPackagesDelete :exec
DELETE FROM vuln_host_packages WHERE host_id = @host_id;

-- name: VulnHostInventory :one
-- VulnHostInventory returns what matching needs to know of one live host: its release
-- facts and its stored package inventory.
SELECT h.id, si.os_id, si.os_version, c.value AS packages, c.value_hash AS packages_hash
FROM live_hosts h
LEFT JOIN host_system_info si ON si.host_id = h.id
LEFT JOIN host_intel_categories c ON c.host_id = h.id AND c.category = 'packages'
WHERE h.id = @host_id;

-- name: VulnHostsState :many
-- VulnHostsState returns, for every live host, its release facts and inventory hash beside
-- those matching last saw, so hosts whose inventory changed unseen are refreshed.
SELECT h.id, si.os_id, si.os_version, c.value_hash AS packages_hash, st.release AS seen_release,
    st.packages_hash AS seen_packages_hash, (st.host_id IS NOT NULL)::boolean AS seen
FROM live_hosts h
LEFT JOIN host_system_info si ON si.host_id = h.id
LEFT JOIN host_intel_categories c ON c.host_id = h.id AND c.category = 'packages'
LEFT JOIN vuln_host_state st ON st.host_id = h.id;

-- name: VulnHostStateUpsert :exec
INSERT INTO vuln_host_state (host_id, release, packages_hash, refreshed_at)
VALUES (@host_id, sqlc.narg(release), sqlc.narg(packages_hash), @at)
ON CONFLICT (host_id) DO UPDATE SET release = EXCLUDED.release, packages_hash = EXCLUDED.packages_hash,
    refreshed_at = EXCLUDED.refreshed_at;

-- name: VulnExposuresForPairs :many
-- VulnExposuresForPairs returns the stored exposures (open and resolved) of the given
-- (release, package) pairs.
SELECT e.host_id, e.advisory_id, e.package, e.installed_version, e.fixed_version, e.binaries, e.resolved_at
FROM vuln_exposures e
JOIN (SELECT unnest(@releases::text[]) AS release, unnest(@packages::text[]) AS package) p
    ON p.release = e.release AND p.package = e.package;

-- name: VulnExposuresOfHostAll :many
SELECT host_id, advisory_id, package, installed_version, fixed_version, binaries, resolved_at
FROM vuln_exposures WHERE host_id = @host_id;

-- name: VulnExposureSet :batchexec
-- VulnExposureSet opens (or reopens, restarting first_seen) an exposure or updates an open
-- one's versions.
UPDATE vuln_exposures SET release = @release, installed_version = @installed_version, binaries = @binaries,
    fixed_version = sqlc.narg(fixed_version), updated_at = @at,
    first_seen = CASE WHEN resolved_at IS NULL THEN first_seen ELSE @at END,
    resolved_at = NULL, resolution = NULL
WHERE host_id = @host_id AND advisory_id = @advisory_id AND package = @package;

-- name: VulnExposureResolve :batchexec
UPDATE vuln_exposures SET resolved_at = @at::timestamptz, updated_at = @at::timestamptz, resolution = @resolution::text
WHERE host_id = @host_id AND advisory_id = @advisory_id AND package = @package AND resolved_at IS NULL;

-- name: VulnImportInsert :one
INSERT INTO vuln_feed_imports (id, source, file_name, started_at, finished_at, imported_by, status, added, updated,
    unchanged, withdrawn, rejected, rematched_packages, exposures_opened, exposures_resolved, rejections, error)
VALUES (@id, @source, @file_name, @started_at, @finished_at, @imported_by, @status, @added, @updated, @unchanged,
    @withdrawn, @rejected, @rematched_packages, @exposures_opened, @exposures_resolved, @rejections, sqlc.narg(error))
RETURNING *;

-- name: VulnImportList :many
SELECT * FROM vuln_feed_imports
WHERE sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id)
ORDER BY id DESC
LIMIT @row_limit;

-- name: VulnList :many
-- VulnList pages the advisories (not withdrawn) with at least one open exposure on a live
-- host, most severe first, with the hosts exposed (excepted ones apart), the hosts whose
-- exposure an approved exception in force excepts, and the fixed versions. The page is
-- chosen first, walking the advisories in order and probing each for an exposure, and only
-- its advisories' exposures are counted; the exception lookup runs only for an advisory
-- some exception in force names.
WITH page AS (
    SELECT v.id, v.aliases, v.summary, v.severity, v.severity_rank, v.cvss_score, v.cvss_vector, v.published, v.modified,
        vuln_exception_any(v.id, v.aliases)::boolean AS has_exception
    FROM vuln_advisories v
    WHERE v.withdrawn IS NULL
      AND (sqlc.narg(severity)::text IS NULL OR v.severity = sqlc.narg(severity))
      AND (sqlc.narg(q)::text IS NULL OR v.id ILIKE '%' || sqlc.narg(q) || '%' OR v.summary ILIKE '%' || sqlc.narg(q) || '%'
           OR EXISTS (SELECT 1 FROM unnest(v.aliases) al WHERE al ILIKE '%' || sqlc.narg(q) || '%'))
      AND (sqlc.narg(after_rank)::smallint IS NULL
           OR (v.severity_rank, v.id) < (sqlc.narg(after_rank)::smallint, sqlc.narg(after_id)::text))
      AND EXISTS (SELECT 1 FROM vuln_exposures e JOIN live_hosts h ON h.id = e.host_id
                  WHERE e.advisory_id = v.id AND e.resolved_at IS NULL
                    AND (sqlc.narg(package)::text IS NULL OR e.package = sqlc.narg(package))
                    AND (sqlc.narg(group_id)::uuid IS NULL OR h.group_id = sqlc.narg(group_id)))
    ORDER BY v.severity_rank DESC, v.id DESC
    LIMIT @row_limit
)
SELECT p.id, p.aliases, p.summary, p.severity, p.severity_rank, p.cvss_score, p.cvss_vector, p.published, p.modified,
    s.host_count, s.excepted_host_count, s.fixed_versions, s.packages
FROM page p
CROSS JOIN LATERAL (
    SELECT count(DISTINCT e.host_id) FILTER (WHERE ex.id IS NULL)::bigint AS host_count,
        count(DISTINCT e.host_id) FILTER (WHERE ex.id IS NOT NULL)::bigint AS excepted_host_count,
        array_remove(array_agg(DISTINCT e.fixed_version), NULL)::text[] AS fixed_versions,
        array_agg(DISTINCT e.package)::text[] AS packages
    FROM vuln_exposures e
    JOIN live_hosts h ON h.id = e.host_id
    LEFT JOIN LATERAL (SELECT f.id FROM vuln_exception_for(p.id, p.aliases, h.id, h.group_id) AS f(id) WHERE p.has_exception) ex ON true
    WHERE e.advisory_id = p.id AND e.resolved_at IS NULL
      AND (sqlc.narg(package)::text IS NULL OR e.package = sqlc.narg(package))
      AND (sqlc.narg(group_id)::uuid IS NULL OR h.group_id = sqlc.narg(group_id))) s
ORDER BY p.severity_rank DESC, p.id DESC;

-- name: VulnGet :one
SELECT * FROM vuln_advisories WHERE id = @id;

-- name: VulnOpenHostCount :one
-- VulnOpenHostCount counts the live hosts exposed to an advisory and those whose exposure
-- an exception in force excepts.
WITH a AS (
    SELECT v.id, v.aliases, vuln_exception_any(v.id, v.aliases)::boolean AS has_exception
    FROM vuln_advisories v WHERE v.id = @advisory_id
)
SELECT count(DISTINCT e.host_id) FILTER (WHERE ex.id IS NULL)::bigint AS exposed,
    count(DISTINCT e.host_id) FILTER (WHERE ex.id IS NOT NULL)::bigint AS excepted
FROM a
JOIN vuln_exposures e ON e.advisory_id = a.id AND e.resolved_at IS NULL
JOIN live_hosts h ON h.id = e.host_id
LEFT JOIN LATERAL (SELECT f.id FROM vuln_exception_for(a.id, a.aliases, h.id, h.group_id) AS f(id) WHERE a.has_exception) ex ON true;

-- name: VulnHostsOf :many
-- VulnHostsOf pages the live hosts with an open exposure to an advisory.
SELECT e.host_id, h.hostname, h.display_name, e.package, e.release, e.installed_version, e.fixed_version, e.binaries,
    e.first_seen, COALESCE(ex.id::text, '')::text AS exception_id
FROM vuln_exposures e
JOIN vuln_advisories v ON v.id = e.advisory_id
JOIN live_hosts h ON h.id = e.host_id
LEFT JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex ON true
WHERE e.advisory_id = @advisory_id AND e.resolved_at IS NULL
  AND (sqlc.narg(after_host)::uuid IS NULL OR (e.host_id, e.package) > (sqlc.narg(after_host)::uuid, sqlc.narg(after_package)::text))
ORDER BY e.host_id, e.package
LIMIT @row_limit;

-- name: VulnOfHost :many
-- VulnOfHost pages a host's open exposures, most severe first.
SELECT v.id, v.aliases, v.summary, v.severity, v.severity_rank, v.cvss_score, v.cvss_vector, v.published, v.modified,
    e.package, e.release, e.installed_version, e.fixed_version, e.binaries, e.first_seen, COALESCE(ex.id::text, '')::text AS exception_id
FROM vuln_exposures e
JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL
JOIN hosts h ON h.id = e.host_id
LEFT JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex ON true
WHERE e.host_id = @host_id AND e.resolved_at IS NULL
  AND (sqlc.narg(severity)::text IS NULL OR v.severity = sqlc.narg(severity))
  AND (sqlc.narg(after_rank)::smallint IS NULL
       OR (v.severity_rank, v.id, e.package) < (sqlc.narg(after_rank)::smallint, sqlc.narg(after_id)::text, sqlc.narg(after_package)::text))
ORDER BY v.severity_rank DESC, v.id DESC, e.package DESC
LIMIT @row_limit;

-- name: VulnMatchLock :exec
-- VulnMatchLock serialises imports (exclusive) against one another and against the
-- matching of a host whose inventory changed (VulnMatchLockShared), until the end of the
-- transaction: each then sees the other's committed rows.
SELECT pg_advisory_xact_lock(7370010037);

-- name: VulnMatchLockShared :exec
SELECT pg_advisory_xact_lock_shared(7370010037);

-- name: VulnHostStateGet :one
SELECT * FROM vuln_host_state WHERE host_id = @host_id;

-- name: VulnHostPackagesDeleteMany :exec
DELETE FROM vuln_host_packages WHERE host_id = ANY(@host_ids::uuid[]);

-- name: VulnHostStateUpsertMany :exec
-- VulnHostStateUpsertMany records what matching saw of many hosts (an empty release or
-- hash is none).
INSERT INTO vuln_host_state (host_id, release, packages_hash, refreshed_at)
SELECT h, NULLIF(r, ''), NULLIF(p, ''), @at
FROM (SELECT unnest(@host_ids::uuid[]) AS h, unnest(@releases::text[]) AS r, unnest(@hashes::text[]) AS p) t
ON CONFLICT (host_id) DO UPDATE SET release = EXCLUDED.release, packages_hash = EXCLUDED.packages_hash,
    refreshed_at = EXCLUDED.refreshed_at;

-- name: VulnHostInventories :many
-- VulnHostInventories is VulnHostInventory for many hosts.
SELECT h.id, si.os_id, si.os_version, c.value AS packages, c.value_hash AS packages_hash
FROM live_hosts h
LEFT JOIN host_system_info si ON si.host_id = h.id
LEFT JOIN host_intel_categories c ON c.host_id = h.id AND c.category = 'packages'
WHERE h.id = ANY(@host_ids::uuid[]);

-- name: VulnCriticalToAlert :many
-- VulnCriticalToAlert returns, among the given (host, advisory) pairs (host_ids[i],
-- advisory_ids[i]), those with an open exposure on a live host to a critical advisory not
-- withdrawn that no exception in force excepts: the ones a vulnerability_critical alert
-- is raised for.
SELECT DISTINCT ON (e.host_id, v.id) e.host_id, v.id AS advisory_id, v.aliases, v.summary, v.cvss_score,
    h.hostname, e.package, e.fixed_version
FROM vuln_exposures e
JOIN (SELECT unnest(@host_ids::uuid[]) AS host_id, unnest(@advisory_ids::text[]) AS advisory_id) p
    ON p.host_id = e.host_id AND p.advisory_id = e.advisory_id
JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL AND v.severity = 'critical'
JOIN live_hosts h ON h.id = e.host_id
LEFT JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex ON true
WHERE e.resolved_at IS NULL AND ex.id IS NULL
ORDER BY e.host_id, v.id, e.package;

-- name: VulnCriticalOpened :many
-- VulnCriticalOpened is VulnCriticalToAlert for the exposures a matching run opened or
-- reopened at @at (first_seen), of one host or (host_id null) of every host.
SELECT DISTINCT ON (e.host_id, v.id) e.host_id, v.id AS advisory_id, v.aliases, v.summary, v.cvss_score,
    h.hostname, e.package, e.fixed_version
FROM vuln_exposures e
JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL AND v.severity = 'critical'
JOIN live_hosts h ON h.id = e.host_id
LEFT JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex ON true
WHERE e.resolved_at IS NULL AND ex.id IS NULL AND e.first_seen = @at
  AND (sqlc.narg(host_id)::uuid IS NULL OR e.host_id = sqlc.narg(host_id))
ORDER BY e.host_id, v.id, e.package;

-- name: VulnCriticalCovered :many
-- VulnCriticalCovered returns the (host, advisory) pairs with an open exposure to a
-- critical advisory that an exception of the given subject (an advisory id or alias) and
-- scope covers: those to judge again when the exception ends.
SELECT DISTINCT e.host_id, e.advisory_id
FROM vuln_exposures e
JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL AND v.severity = 'critical'
JOIN live_hosts h ON h.id = e.host_id
WHERE e.resolved_at IS NULL AND (v.id = @subject::text OR @subject::text = ANY(v.aliases))
  AND (@scope::text = 'fleet' OR (@scope::text = 'host' AND h.id = sqlc.narg(host_id)::uuid)
       OR (@scope::text = 'group' AND h.group_id = sqlc.narg(group_id)::uuid));

-- name: VulnCriticalAlertsStale :many
-- VulnCriticalAlertsStale returns the dedup keys of the live vulnerability_critical alerts
-- whose exposure is resolved, excepted or no longer critical (or whose host left), of one
-- host or (host_id null) of every host.
SELECT a.dedup_key FROM alerts a
WHERE a.alert_type = 'vulnerability_critical' AND a.state IN ('active', 'acknowledged', 'silenced')
  AND (sqlc.narg(host_id)::uuid IS NULL OR a.host_id = sqlc.narg(host_id))
  AND NOT EXISTS (
    SELECT 1 FROM vuln_exposures e
    JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL AND v.severity = 'critical'
    JOIN live_hosts h ON h.id = e.host_id
    LEFT JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex ON true
    WHERE e.host_id = a.host_id AND e.advisory_id = a.tags->>'advisory_id' AND e.resolved_at IS NULL AND ex.id IS NULL)
ORDER BY a.dedup_key;

-- name: VulnExceptedHosts :many
-- VulnExceptedHosts returns which of the hosts an approved exception in force of one of the
-- advisories (by its id or any alias) covers, on the host, its group or the fleet.
SELECT h.id FROM hosts h
WHERE h.id = ANY(@host_ids::uuid[]) AND EXISTS (
    SELECT 1 FROM vuln_advisories v
    CROSS JOIN LATERAL vuln_exception_for(v.id, v.aliases, h.id, h.group_id) ex
    WHERE v.id = ANY(@advisory_ids::text[]));
