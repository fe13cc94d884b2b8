import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";

// The most groups a picker loads (five pages of 200): pickers list groups by name, and a
// fleet has far fewer groups than hosts.
const PICKER_PAGES = 5;

// groupsPickerQuery is every group (up to 1,000) by name, for the pickers of the hosts
// filter and the bulk "add to group" action.
export const groupsPickerQuery = queryOptions({
  queryKey: ["groups", "picker"] as const,
  queryFn: async () => {
    const groups: Schemas["HostGroup"][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < PICKER_PAGES; i++) {
      const page = await unwrap(api.GET("/groups", { params: { query: { limit: 200, cursor } } }));
      groups.push(...page.groups);
      cursor = page.next_cursor ?? undefined;
      if (!cursor) break;
    }
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  },
  staleTime: 60_000,
});

export const groupQuery = (id: string) =>
  queryOptions({
    queryKey: ["groups", "detail", id] as const,
    queryFn: () => unwrap(api.GET("/groups/{id}", { params: { path: { id } } })),
  });
