import { Badge } from "@mantine/core";
import { AnchorLink } from "./links";

// Badge colours are Mantine's light and outline variants, darkened in theme.ts to keep AA
// contrast. Badges never shrink below their text: a table squeezing a column would
// otherwise cut "critical" to "criti…".

const RESULT_COLOR: Record<string, string> = { pass: "teal", fail: "red", skipped: "gray", error: "orange", excepted: "violet" };
export function ResultBadge({ status }: { status: string }) {
  return (
    <Badge miw="fit-content" color={RESULT_COLOR[status] ?? "gray"} variant="light">
      {status}
    </Badge>
  );
}

const SEVERITY_COLOR: Record<string, string> = {
  critical: "red",
  high: "orange",
  medium: "yellow",
  low: "blue",
  info: "gray",
  notice: "gray",
  warning: "yellow",
};
export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge miw="fit-content" color={SEVERITY_COLOR[severity] ?? "gray"} variant="outline">
      {severity}
    </Badge>
  );
}

const SCAN_COLOR: Record<string, string> = {
  queued: "gray",
  running: "blue",
  completed: "teal",
  failed: "red",
  cancelled: "gray",
};
export function ScanStatusBadge({ status }: { status: string }) {
  return (
    <Badge miw="fit-content" color={SCAN_COLOR[status] ?? "gray"} variant="light">
      {status}
    </Badge>
  );
}

const REACH_COLOR: Record<string, string> = { reachable: "teal", unreachable: "red", unknown: "gray" };
export function ReachabilityBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? "never probed";
  return (
    <Badge miw="fit-content" color={REACH_COLOR[s] ?? "gray"} variant="light">
      {s}
    </Badge>
  );
}

const EXCEPTION_COLOR: Record<string, string> = {
  pending: "yellow",
  approved: "violet",
  rejected: "gray",
  revoked: "gray",
  expired: "gray",
};
export function ExceptionStatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <Badge miw="fit-content" color={EXCEPTION_COLOR[status] ?? "gray"} variant="light" data-testid={testId}>
      {status}
    </Badge>
  );
}

// ExposureBadge shows whether an exposure counts (exposed) or an approved exception in
// force excepts it; an excepted one links to its exception.
export function ExposureBadge({ status, exceptionId }: { status: string; exceptionId?: string | null }) {
  const badge = (
    <Badge miw="fit-content" color={status === "excepted" ? "violet" : "red"} variant="light" data-testid="exposure-status">
      {status}
    </Badge>
  );
  if (status !== "excepted" || !exceptionId) return badge;
  return (
    <AnchorLink to="/exceptions" search={{ exception: exceptionId }} aria-label={`excepted by exception ${exceptionId}`}>
      {badge}
    </AnchorLink>
  );
}
