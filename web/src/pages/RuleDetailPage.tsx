import { Badge, Card, Code, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { ruleQuery } from "../api/queries";
import { SeverityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { platformText } from "./RulesPage";

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card withBorder component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}

function RuleLinks({ ids }: { ids: string[] }) {
  if (ids.length === 0) return <Text size="sm" c="dimmed">none</Text>;
  return (
    <Group gap="xs">
      {ids.map((id) => (
        <AnchorLink key={id} to="/rules/$ruleId" params={{ ruleId: id }} size="sm">
          {id}
        </AnchorLink>
      ))}
    </Group>
  );
}

// RuleDetailPage is one rule in full: what it checks and why, where it applies, the
// framework entries it maps to, its variables and its implementations.
export function RuleDetailPage() {
  const { ruleId } = useParams({ from: "/app/rules/$ruleId" });
  const { data: r, error, isPending } = useQuery(ruleQuery(ruleId));
  if (isPending) return <Loader role="status" aria-label="Loading rule" />;
  if (error) {
    return (
      <>
        <PageHeader title={ruleId} />
        <ErrorAlert error={error} />
      </>
    );
  }
  return (
    <>
      <PageHeader title={r.title} description={r.id} />
      <Stack>
        <Group gap="xs">
          <SeverityBadge severity={r.severity} />
          <Badge variant="default">{r.category}</Badge>
          {r.platforms.map((p) => (
            <Badge key={platformText(p)} variant="light">
              {platformText(p)}
            </Badge>
          ))}
        </Group>
        <Section title="Description">
          <Text style={{ whiteSpace: "pre-wrap" }}>{r.description}</Text>
          {r.rationale && (
            <>
              <Title order={3} size="h5" mt="md" mb={4}>
                Rationale
              </Title>
              <Text style={{ whiteSpace: "pre-wrap" }}>{r.rationale}</Text>
            </>
          )}
        </Section>
        <Section title="Frameworks and references">
          <Group gap={4} mb="sm">
            {r.frameworks.map((f) => (
              <Badge key={f} variant="default" size="sm">
                {f}
              </Badge>
            ))}
          </Group>
          <Code block className="mono-block">
            {JSON.stringify(r.references, null, 2)}
          </Code>
        </Section>
        {r.variables.length > 0 && (
          <Section title="Variables">
            <Table aria-label="Rule variables">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Name</Table.Th>
                  <Table.Th scope="col">Default</Table.Th>
                  <Table.Th scope="col">In use</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {r.variables.map((v) => (
                  <Table.Tr key={v.name}>
                    <Table.Td><Code>{v.name}</Code></Table.Td>
                    <Table.Td>{v.default ?? "—"}</Table.Td>
                    <Table.Td>{v.value ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Section>
        )}
        <Section title="Implementations">
          <Stack>
            {r.implementations.map((impl, i) => (
              <Stack key={i} gap={4}>
                <Text size="sm" fw={600}>
                  {impl.when ? `When ${impl.when}` : "Default"}
                </Text>
                <Code block className="mono-block">
                  {JSON.stringify(impl.check, null, 2)}
                </Code>
                {impl.remediation.length > 0 && (
                  <>
                    <Text size="sm">Remediation</Text>
                    <Code block className="mono-block">
                      {impl.remediation.join("\n")}
                    </Code>
                  </>
                )}
              </Stack>
            ))}
          </Stack>
        </Section>
        <Section title="Related rules">
          <Stack gap="xs">
            <Text size="sm">Depends on:</Text>
            <RuleLinks ids={r.depends_on} />
            <Text size="sm">Conflicts with:</Text>
            <RuleLinks ids={r.conflicts_with} />
            <Text size="sm">Supersedes:</Text>
            <RuleLinks ids={r.supersedes} />
          </Stack>
        </Section>
      </Stack>
    </>
  );
}
