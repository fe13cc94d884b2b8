import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { shortId } from "../lib/format";

// ActorName names who asked for something (a scan's or a batch's requested_by): a user by
// username when the caller may read users, OpenWatch itself when no one did (scheduled
// work), and otherwise the id, shortened, with the full id on hover.
export function ActorName({ id }: { id: string | null | undefined }) {
  const canRead = useCan("user:read");
  const isId = !!id && /^[0-9a-f-]{36}$/i.test(id);
  const user = useQuery({
    queryKey: ["users", "detail", id],
    queryFn: () => unwrap(api.GET("/users/{id}", { params: { path: { id: id ?? "" } } })),
    enabled: canRead && isId,
    staleTime: 5 * 60_000,
    retry: false,
  });
  if (!id || id === "system") return <>OpenWatch (scheduled)</>;
  if (user.data) return <>{user.data.username}</>;
  return <span title={id}>{isId ? shortId(id) : id}</span>;
}
