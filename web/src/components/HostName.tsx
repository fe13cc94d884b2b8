import { useQuery } from "@tanstack/react-query";
import { hostQuery } from "../api/queries";
import { shortId } from "../lib/format";

// HostName shows a host's name from its cached detail, loading it when needed: lists
// that name hosts by id only (fleet tables, activity, scans) read better with names.
export function HostName({ id }: { id: string }) {
  const { data } = useQuery({ ...hostQuery(id), staleTime: 5 * 60_000 });
  return <>{data?.host.display_name || data?.host.hostname || shortId(id)}</>;
}
