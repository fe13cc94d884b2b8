import { queryOptions, useQuery, type QueryClient } from "@tanstack/react-query";
import { api, forgetSession, markSignedIn } from "../api/client";
import { ApiError, unwrap } from "../api/errors";

// meQuery is the signed-in caller. A 401 is not retried: it means "signed out".
export const meQuery = queryOptions({
  queryKey: ["auth", "me"] as const,
  queryFn: async () => {
    const me = await unwrap(api.GET("/auth/me"));
    markSignedIn();
    return me;
  },
  staleTime: 5 * 60_000,
  retry: false,
});

// permissionsQuery is the union of the caller's roles' permissions; controls the caller
// cannot use are hidden or disabled from it.
export const permissionsQuery = queryOptions({
  queryKey: ["auth", "permissions"] as const,
  queryFn: () => unwrap(api.GET("/auth/me/permissions")),
  staleTime: 5 * 60_000,
  retry: false,
});

// isSignedOut tells whether an error from meQuery means there is no session.
export function isSignedOut(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

// useCan reports whether the caller holds a permission. While the permissions load it
// answers false, so a write control never flashes into view for a reader.
export function useCan(permission: string): boolean {
  const { data } = useQuery(permissionsQuery);
  return data?.permissions.includes(permission) ?? false;
}

// signOut ends the session on the server and forgets everything cached about it.
export async function signOut(queryClient: QueryClient): Promise<void> {
  try {
    await api.POST("/auth/logout");
  } finally {
    forgetSession();
    queryClient.clear();
  }
}
