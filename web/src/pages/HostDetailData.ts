import type { Schemas } from "../api/client";

// Pure helpers of the host detail page, kept apart so they can be tested without a DOM.

const pad = (n: number) => String(n).padStart(2, "0");

// isoToLocalInput turns an RFC 3339 instant into the value of an <input type=
// "datetime-local"> in the browser's time zone ("" for none or a bad value).
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// localInputToIso reads a datetime-local value (local time) as an RFC 3339 instant in UTC;
// undefined for an empty or partial value.
export function localInputToIso(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

type Framework = Schemas["Framework"];

// applicableFrameworks are the frameworks with rules for the host's platform family ("all"
// first); every framework when the platform is not known yet. A benchmark written for one
// release (CIS or STIG "rhel9", "ubuntu22") applies only to hosts of that family and major
// version: a Debian host is not scored against the RHEL 9 benchmark because some of its
// rules also run there.
export function applicableFrameworks(
  frameworks: Framework[],
  osFamily: string | null | undefined,
  osVersion?: string | null,
): Framework[] {
  const fam = (osFamily ?? "").toLowerCase();
  const known = fam === "debian" || fam === "ubuntu" || fam === "rhel";
  const major = /^(\d+)/.exec(osVersion ?? "")?.[1];
  const forHost = (f: Framework) => {
    const bench = /^([a-z]+)(\d+)$/.exec(f.benchmark ?? "");
    return !bench || (bench[1] === fam && (!major || bench[2] === major));
  };
  const out = frameworks.filter(
    (f) => f.id === "all" || !known || (f.platforms[fam as "debian" | "ubuntu" | "rhel"] > 0 && forHost(f)),
  );
  return out.sort((a, b) => (a.id === "all" ? -1 : b.id === "all" ? 1 : a.name.localeCompare(b.name)));
}

export interface ScorePoint {
  id: string;
  at: string;
  score: number;
  pass: number;
  fail: number;
}

// scanScoreSeries is the passing percentage of each completed scan that passed or failed
// something, oldest first (the API lists scans newest first).
export function scanScoreSeries(scans: Schemas["Scan"][]): ScorePoint[] {
  return scans
    .filter((s) => s.status === "completed" && s.counts.pass + s.counts.fail > 0)
    .map((s) => ({
      id: s.id,
      at: s.finished_at ?? s.created_at,
      score: Math.round((s.counts.pass / (s.counts.pass + s.counts.fail)) * 1000) / 10,
      pass: s.counts.pass,
      fail: s.counts.fail,
    }))
    .sort((a, b) => a.at.localeCompare(b.at));
}

export type TrendInterval = "hour" | "day" | "week";

// trendSeries is the chart's data for a trend: the passing percentage at each point, null
// where nothing had passed or failed yet (the chart leaves a gap).
export function trendSeries(points: Schemas["CompliancePoint"][], interval: TrendInterval) {
  return points.map((p) => ({
    at: new Date(p.at).toLocaleString(
      undefined,
      interval === "hour" ? { month: "short", day: "numeric", hour: "2-digit" } : { month: "short", day: "numeric" },
    ),
    score: p.passing_fraction === null || p.passing_fraction === undefined ? null : Math.round(p.passing_fraction * 1000) / 10,
  }));
}

// trendSince is where a trend of this interval starts: two days of hours, else the API's
// default (30 days).
export function trendSince(interval: TrendInterval, until: string | undefined, now = Date.now()): string | undefined {
  if (interval !== "hour") return undefined;
  const end = until ? new Date(until).getTime() : now;
  return new Date(end - 48 * 3600_000).toISOString();
}
