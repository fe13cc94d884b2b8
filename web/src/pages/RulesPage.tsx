import { Badge, Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { frameworksQuery } from "../api/queries";
import { SeverityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { RULE_CATEGORIES, SEVERITIES } from "../lib/search";

type Rule = Schemas["RuleSummary"];

export function platformText(p: Schemas["PlatformRange"]): string {
  if (p.min_version && p.max_version) return `${p.family} ${p.min_version}–${p.max_version}`;
  if (p.min_version) return `${p.family} ≥ ${p.min_version}`;
  if (p.max_version) return `${p.family} ≤ ${p.max_version}`;
  return p.family;
}

const columns: ListColumn<Rule>[] = [
  {
    id: "title",
    header: "Rule",
    cell: ({ row }) => (
      <Stack gap={0}>
        <AnchorLink to="/rules/$ruleId" params={{ ruleId: row.original.id }}>
          {row.original.title}
        </AnchorLink>
        <Text size="xs" c="dimmed">{row.original.id}</Text>
      </Stack>
    ),
  },
  { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
  { id: "category", header: "Category", cell: ({ row }) => row.original.category },
  {
    id: "platforms",
    header: "Platforms",
    cell: ({ row }) => (
      <Group gap={4}>
        {row.original.platforms.map((p) => (
          <Badge key={platformText(p)} variant="default" size="sm">
            {platformText(p)}
          </Badge>
        ))}
      </Group>
    ),
  },
  { id: "frameworks", header: "Frameworks", cell: ({ row }) => <Text size="sm">{row.original.frameworks.length}</Text> },
];

// RulesPage browses the built-in compliance rules with the filters in the URL.
export function RulesPage() {
  const search = useSearch({ from: "/app/rules" });
  const navigate = useNavigate({ from: "/rules" });
  const frameworks = useQuery(frameworksQuery);
  const filters = {
    q: search.q,
    framework: search.framework,
    severity: search.severity,
    category: search.category,
    platform: search.platform,
  };
  const query = useInfiniteQuery({
    queryKey: ["rules", "list", filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/rules", { params: { query: { ...filters, limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 5 * 60_000,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const [q, setQ] = useState(search.q ?? "");
  const pushQ = useDebouncedCallback((v: string) => {
    void navigate({ search: (s) => ({ ...s, q: v.trim() || undefined }), replace: true });
  }, 300);
  const set = (patch: Record<string, string | undefined>) => void navigate({ search: (s) => ({ ...s, ...patch }) as typeof s });
  return (
    <>
      <PageHeader title="Rules" description="The compliance rules built into this server." />
      <Group mb="sm" align="flex-end">
        <TextInput
          label="Search"
          placeholder="Words in id, title or description"
          value={q}
          onChange={(e) => {
            setQ(e.currentTarget.value);
            pushQ(e.currentTarget.value);
          }}
          w={260}
        />
        <Select
          label="Framework"
          data={[{ value: "", label: "Any" }, ...(frameworks.data?.items ?? []).filter((f) => f.id !== "all").map((f) => ({ value: f.id, label: f.name }))]}
          value={search.framework ?? ""}
          onChange={(v) => set({ framework: v || undefined })}
          searchable
          w={240}
        />
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...SEVERITIES.map((s) => ({ value: s, label: s }))]}
          value={search.severity ?? ""}
          onChange={(v) => set({ severity: v || undefined })}
          w={130}
        />
        <Select
          label="Category"
          data={[{ value: "", label: "Any" }, ...RULE_CATEGORIES.map((s) => ({ value: s, label: s }))]}
          value={search.category ?? ""}
          onChange={(v) => set({ category: v || undefined })}
          w={160}
        />
        <Select
          label="Platform"
          data={[
            { value: "", label: "Any" },
            { value: "debian", label: "Debian" },
            { value: "ubuntu", label: "Ubuntu" },
            { value: "rhel", label: "RHEL" },
          ]}
          value={search.platform ?? ""}
          onChange={(v) => set({ platform: v || undefined })}
          w={130}
        />
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Rules"
        testId="rules-table"
        columns={columns}
        rows={rows}
        getRowId={(r) => r.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        rowHeight={56}
        empty="No rule matches these filters."
      />
    </>
  );
}
