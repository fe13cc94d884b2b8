-- Vulnerability exposure from offline OSV feeds (internal/vuln): advisories imported from
-- OSV records, their affected packages per distribution release, each host's installed
-- packages in the form matching needs, and the exposures matching finds (one row per host,
-- advisory and package; resolved rows keep their history).
--
-- "release" is an OSV ecosystem reduced to the distribution and release hosts are mapped
-- to (Debian:12, Ubuntu:22.04, Red Hat:9, AlmaLinux:9, Rocky Linux:9), so an advisory for
-- "Ubuntu:22.04:LTS" and a host running Ubuntu 22.04 meet on one indexed key.

-- +goose Up
CREATE TABLE vuln_advisories (
    id           text PRIMARY KEY,
    aliases      text[] NOT NULL DEFAULT '{}',
    summary      text NOT NULL DEFAULT '',
    -- The record's details, cut to 8 KiB: the feed stays the reference.
    details      text NOT NULL DEFAULT '',
    -- critical, high, medium, low, negligible or unknown: from the distribution's own rating
    -- when the record has one, otherwise from the CVSS base score.
    severity     text NOT NULL DEFAULT 'unknown'
        CHECK (severity IN ('critical', 'high', 'medium', 'low', 'negligible', 'unknown')),
    -- The list order: critical first.
    severity_rank smallint GENERATED ALWAYS AS (CASE severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4
        WHEN 'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'negligible' THEN 1 ELSE 0 END) STORED NOT NULL,
    cvss_score   double precision CHECK (cvss_score BETWEEN 0 AND 10),
    cvss_vector  text,
    published    timestamptz,
    modified     timestamptz NOT NULL,
    withdrawn    timestamptz,
    -- The feed (import source name) that last wrote the record.
    source       text NOT NULL,
    imported_at  timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX vuln_advisories_aliases_idx ON vuln_advisories USING gin (aliases);

-- One row per advisory, release and package name (several affected entries of one record
-- for the same package are merged): the ECOSYSTEM ranges' events in record order and the
-- explicit versions, evaluated in Go with the release's version ordering.
CREATE TABLE vuln_affected (
    advisory_id  text NOT NULL REFERENCES vuln_advisories (id) ON DELETE CASCADE,
    release      text NOT NULL,
    ecosystem    text NOT NULL,
    package      text NOT NULL,
    -- [[{"introduced": "0"}, {"fixed": "1.2-3"}], ...]: one array of events per range.
    ranges       jsonb NOT NULL DEFAULT '[]',
    versions     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (advisory_id, release, package)
);
CREATE INDEX vuln_affected_package_idx ON vuln_affected (release, package);

-- The import history.
CREATE TABLE vuln_feed_imports (
    id           uuid PRIMARY KEY,
    source       text NOT NULL,
    file_name    text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    imported_by  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    added        integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    withdrawn    integer NOT NULL DEFAULT 0,
    rejected     integer NOT NULL DEFAULT 0,
    -- The (release, package) pairs matched again and the exposures opened and resolved.
    rematched_packages integer NOT NULL DEFAULT 0,
    exposures_opened   integer NOT NULL DEFAULT 0,
    exposures_resolved integer NOT NULL DEFAULT 0,
    -- [{"file": ..., "id": ..., "reason": ...}], at most 100 rejections; error: why a failed
    -- import failed.
    rejections   jsonb NOT NULL DEFAULT '[]',
    error        text
);
CREATE INDEX vuln_feed_imports_started_idx ON vuln_feed_imports (started_at DESC, id DESC);

-- Each host's installed packages as matching sees them: for dpkg the source package and
-- source version (Debian and Ubuntu records name source packages), for rpm the binary and
-- the source package names with the installed EVR. Rebuilt from host_intel_categories
-- when a host's package inventory or release changes; vuln_host_state says from which.
CREATE TABLE vuln_host_packages (
    host_id   uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    release   text NOT NULL,
    name      text NOT NULL,
    version   text NOT NULL,
    -- The installed binary packages this entry stands for.
    binaries  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (host_id, name, version)
);
CREATE INDEX vuln_host_packages_match_idx ON vuln_host_packages (release, name);

CREATE TABLE vuln_host_state (
    host_id        uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    -- null when the host's release has no OSV ecosystem (or is not known yet).
    release        text,
    packages_hash  text,
    refreshed_at   timestamptz NOT NULL
);

-- Exposures. Open while resolved_at is null; resolution says why one closed (fixed: the
-- installed version no longer matches; withdrawn: the advisory was withdrawn; not_affected:
-- an updated record no longer covers the version; removed: the package left the host).
-- Reopening clears resolved_at and restarts first_seen. Future CVE exceptions key on
-- (advisory_id, host_id or fleet) and an alert on new critical exposures on first_seen.
CREATE TABLE vuln_exposures (
    host_id            uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    advisory_id        text NOT NULL REFERENCES vuln_advisories (id) ON DELETE CASCADE,
    package            text NOT NULL,
    release            text NOT NULL,
    installed_version  text NOT NULL,
    binaries           text[] NOT NULL DEFAULT '{}',
    -- The lowest fixed version above the installed one in the record for the host's
    -- release; null when the record names none (no fix yet).
    fixed_version      text,
    first_seen         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    resolved_at        timestamptz,
    resolution         text CHECK (resolution IN ('fixed', 'withdrawn', 'not_affected', 'removed')),
    PRIMARY KEY (host_id, advisory_id, package)
);
CREATE INDEX vuln_exposures_open_advisory_idx ON vuln_exposures (advisory_id, host_id) WHERE resolved_at IS NULL;
CREATE INDEX vuln_exposures_open_pair_idx ON vuln_exposures (release, package) WHERE resolved_at IS NULL;

-- +goose Down
DROP TABLE vuln_exposures;
DROP TABLE vuln_host_state;
DROP TABLE vuln_host_packages;
DROP TABLE vuln_feed_imports;
DROP TABLE vuln_affected;
DROP TABLE vuln_advisories;
