import { Group, Select } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { hostQuery } from "../api/queries";
import { PageHeader } from "../components/PageHeader";
import { EVENT_CODES, EVENT_SEVERITIES, eventLabel, isEventCode, isSeverity } from "./IntelData";
import { IntelEventsTable } from "./IntelEvents";

// IntelHostFilter picks the host to show events of, asking the server as the user types
// (a fleet is too large for one list); the chosen host stays named while others load.
function IntelHostFilter({ value, onChange }: { value: string | undefined; onChange: (id: string | undefined) => void }) {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const hosts = useQuery({
    queryKey: ["hosts", "list", { q, picker: true }],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  const current = useQuery({ ...hostQuery(value ?? ""), enabled: !!value, staleTime: 5 * 60_000 });
  const options = (hosts.data?.hosts ?? []).map((h) => ({ value: h.id, label: h.display_name || h.hostname }));
  if (value && !options.some((o) => o.value === value)) {
    const h = current.data?.host;
    options.unshift({ value, label: h ? h.display_name || h.hostname : value });
  }
  return (
    <Select
      label="Host"
      placeholder="Any host"
      searchable
      clearable
      data={options}
      value={value ?? null}
      onChange={(v) => onChange(v ?? undefined)}
      onSearchChange={setSearch}
      nothingFoundMessage="No host matches"
      filter={({ options: o }) => o}
      w={260}
    />
  );
}

// IntelligencePage lists what intelligence collection found changed across the fleet
// (packages, services, users, ports, ...), newest first; the filters live in the URL.
export function IntelligencePage() {
  const search = useSearch({ from: "/app/intelligence" });
  const navigate = useNavigate({ from: "/intelligence" });
  const eventCode = isEventCode(search.event_type) ? search.event_type : undefined;
  const severity = isSeverity(search.severity) ? search.severity : undefined;
  const filters = { host_id: search.host_id, event_code: eventCode, severity };
  const set = (patch: Partial<typeof search>) => void navigate({ search: (s) => ({ ...s, ...patch }) });
  return (
    <>
      <PageHeader
        title="Intelligence"
        description="What changed on the hosts between collections: packages, services, users, ports and more."
      />
      <Group mb="sm" align="flex-end">
        <IntelHostFilter value={search.host_id} onChange={(v) => set({ host_id: v })} />
        <Select
          label="Event type"
          data={[{ value: "", label: "Any" }, ...EVENT_CODES.map((c) => ({ value: c, label: eventLabel(c) }))]}
          value={eventCode ?? ""}
          onChange={(v) => set({ event_type: v || undefined })}
          searchable
          w={240}
        />
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...EVENT_SEVERITIES.map((s) => ({ value: s, label: s }))]}
          value={severity ?? ""}
          onChange={(v) => set({ severity: v || undefined })}
          w={150}
        />
      </Group>
      <IntelEventsTable
        filters={filters}
        showHost
        label="Intelligence events"
        testId="intel-events"
        empty="No event matches: events appear when a collection finds something changed since the one before."
      />
    </>
  );
}
