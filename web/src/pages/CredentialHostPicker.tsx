import { Select } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";

// HostPicker finds a host by name for a host-scoped credential, asking the server as the
// user types (the fleet may be far too large for one list).
export function HostPicker({ value, onChange, error }: { value: string; onChange: (id: string) => void; error?: React.ReactNode }) {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const { data } = useQuery({
    queryKey: ["hosts", "list", { q, picker: true }],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  const options = (data?.hosts ?? []).map((h) => ({ value: h.id, label: `${h.hostname} (${h.ip_address})` }));
  return (
    <Select
      label="Host"
      withAsterisk
      searchable
      data={options}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage="No host matches"
      filter={({ options }) => options}
      error={error}
    />
  );
}
