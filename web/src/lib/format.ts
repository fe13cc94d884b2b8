// Formatting shared by the pages. Dates show in the user's locale; the exact instant is
// kept in a title attribute where it matters.

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (abs < 60) return fmt.format(-s, "second");
  if (abs < 3600) return fmt.format(-Math.round(s / 60), "minute");
  if (abs < 86400) return fmt.format(-Math.round(s / 3600), "hour");
  return fmt.format(-Math.round(s / 86400), "day");
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return "—";
  return `${(fraction * 100).toFixed(1)} %`;
}

export function passingFraction(pass: number, fail: number): number | null {
  return pass + fail === 0 ? null : pass / (pass + fail);
}

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString();
}

// shortId abbreviates a UUID for tables. Our ids are UUIDv7, whose leading characters are a
// timestamp shared by everything made in the same minute, so the tail is what tells them
// apart.
export function shortId(id: string | null | undefined): string {
  if (!id) return "";
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}
