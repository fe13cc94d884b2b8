import { Badge, Code, Drawer, Group, Loader, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { Schemas } from "../api/client";
import { evidenceQuery } from "../api/queries";
import { formatDateTime, shortId } from "../lib/format";
import { ResultBadge, SeverityBadge } from "./badges";
import { ErrorAlert } from "./ErrorAlert";
import { AnchorLink } from "./links";
import { OscalDownload } from "./OscalDownload";

type Check = Schemas["EvidenceCheck"];

function Block({ label, children }: { label: string; children: string }) {
  return (
    <div>
      <Text size="sm" fw={600}>
        {label}
      </Text>
      <Code block className="mono-block">
        {children === "" ? "(empty)" : children}
      </Code>
    </div>
  );
}

// CheckView shows one check: what ran on the host, what came back, and what was expected.
// A composite (`all_of`) shows its parts below it.
function CheckView({ check, depth = 0 }: { check: Check; depth?: number }) {
  const vars = Object.entries(check.variables ?? {});
  return (
    <Stack gap="xs" pl={depth > 0 ? "md" : 0} style={depth > 0 ? { borderLeft: "2px solid var(--mantine-color-default-border)" } : undefined}>
      <Group gap="xs">
        <Badge variant="default">{check.method}</Badge>
        <ResultBadge status={check.status} />
        <Text size="xs" c="dimmed">
          {check.duration_ms.toFixed(0)} ms
        </Text>
        {check.truncated && (
          <Badge color="yellow" variant="light">
            output truncated
          </Badge>
        )}
      </Group>
      {check.commands.length > 0 && <Block label="Command">{check.commands.join("\n")}</Block>}
      {check.method !== "all_of" && (
        <>
          <Block label="Output">{check.output}</Block>
          <Group grow align="flex-start">
            <Block label="Expected">{check.expected}</Block>
            <Block label="Actual">{check.actual}</Block>
          </Group>
        </>
      )}
      {vars.length > 0 && (
        <Block label="Variables">{vars.map(([k, v]) => `${k} = ${v}`).join("\n")}</Block>
      )}
      {check.checks?.map((c, i) => <CheckView key={i} check={c} depth={depth + 1} />)}
    </Stack>
  );
}

// EvidenceView loads and shows the evidence of one rule's result in one scan.
export function EvidenceView({ scanId, ruleId }: { scanId: string; ruleId: string }) {
  const { data, error, isPending } = useQuery(evidenceQuery(scanId, ruleId));
  if (isPending) return <Loader role="status" size="sm" aria-label="Loading evidence" />;
  if (error) return <ErrorAlert error={error} />;
  return (
    <Stack data-testid="evidence">
      <Group gap="xs">
        <ResultBadge status={data.status} />
        <SeverityBadge severity={data.severity} />
        <AnchorLink to="/rules/$ruleId" params={{ ruleId }} size="sm">
          {ruleId}
        </AnchorLink>
        <OscalDownload scanId={scanId} ruleId={ruleId} size="xs" />
      </Group>
      {data.reason && <Text size="sm">{data.reason}</Text>}
      <Text size="xs" c="dimmed">
        Recorded {formatDateTime(data.recorded_at)} by scan{" "}
        <AnchorLink to="/scans/$scanId" params={{ scanId }} size="xs" underline="always">
          {shortId(scanId)}
        </AnchorLink>
      </Text>
      {data.evidence ? (
        <CheckView check={data.evidence} />
      ) : (
        <Text size="sm" c="dimmed">
          No implementation of this rule fits the host, so nothing was run.
        </Text>
      )}
    </Stack>
  );
}

// EvidenceDrawer shows EvidenceView beside the list it was opened from; the URL holds
// which rule is open, so the view can be linked and survives a reload.
export function EvidenceDrawer({
  scanId,
  ruleId,
  onClose,
}: {
  scanId: string | undefined;
  ruleId: string | undefined;
  onClose: () => void;
}) {
  const open = !!scanId && !!ruleId;
  return (
    <Drawer
      opened={open}
      onClose={onClose}
      position="right"
      size="xl"
      title={<Title order={2} size="h4">Evidence{ruleId ? `: ${ruleId}` : ""}</Title>}
      closeButtonProps={{ "aria-label": "Close evidence" }}
    >
      {open && <EvidenceView scanId={scanId} ruleId={ruleId} />}
    </Drawer>
  );
}
