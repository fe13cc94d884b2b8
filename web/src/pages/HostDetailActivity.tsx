import { Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { activityColumns } from "../components/activityColumns";
import { ErrorAlert } from "../components/ErrorAlert";
import { VirtualTable } from "../components/VirtualTable";


const columns = activityColumns;

// ActivityTab is what happened to the host (audit events, liveness transitions,
// intelligence events, alerts), newest first, a server page at a time.
export function ActivityTab({ hostId }: { hostId: string }) {
  const query = useInfiniteQuery({
    queryKey: ["activity", { host_id: hostId }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/activity", { params: { query: { host_id: hostId, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const hidden = query.data?.pages.reduce((n, p) => n + p.hidden_count, 0) ?? 0;
  return (
    <>
      {hidden > 0 && (
        <Text size="sm" c="dimmed" mb="xs">
          {hidden} items hidden: you lack the permission to read their source.
        </Text>
      )}
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Activity of this host"
        testId="host-activity"
        columns={columns}
        rows={rows}
        getRowId={(a) => a.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="Nothing has happened to this host yet."
        height="calc(100vh - 330px)"
      />
    </>
  );
}
