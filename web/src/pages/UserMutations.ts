import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";

// useUserMutations are the changes to a user shared by the users table and the user page:
// give or take a role, allow or stop sign-in. Every one refreshes the ["users", …] queries.
// The server refuses what would lock everyone out (the last admin, oneself) with a 409
// whose message onError receives.
export function useUserMutations(user: Pick<Schemas["UserResponse"], "id" | "disabled_at">, onError: (err: Error) => void) {
  const qc = useQueryClient();
  const done = () => void qc.invalidateQueries({ queryKey: ["users"] });
  const toggle = useMutation({
    mutationFn: () =>
      user.disabled_at
        ? unwrap(api.POST("/users/{id}:enable", { params: { path: { id: user.id } } }))
        : unwrap(api.POST("/users/{id}:disable", { params: { path: { id: user.id } } })),
    onSuccess: done,
    onError,
  });
  const assign = useMutation({
    mutationFn: ({ role, on }: { role: string; on: boolean }) =>
      on
        ? unwrap(api.POST("/users/{id}/roles:assign", { params: { path: { id: user.id } }, body: { role_id: role } }))
        : unwrap(api.POST("/users/{id}/roles:unassign", { params: { path: { id: user.id } }, body: { role_id: role } })),
    onSuccess: done,
    onError,
  });
  return { toggle, assign };
}
