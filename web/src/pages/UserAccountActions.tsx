import { Button, Group, Modal, Stack, Text, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { meQuery } from "../auth/session";
import { FormError } from "../components/FormError";

type User = Schemas["UserResponse"];
type Action = "revoke-sessions" | "reset-mfa";

const LABEL: Record<Action, string> = { "revoke-sessions": "Sign out everywhere", "reset-mfa": "Reset MFA" };

function explain(a: Action, u: User): string {
  return a === "revoke-sessions"
    ? `Every session of ${u.username} ends at once, in the browser and in scripts using their tokens; they can sign in again with their password.`
    : `${u.username}'s authenticator and recovery codes stop working and their sessions end. When MFA is required they enrol again at their next sign-in.`;
}

// runAction calls POST /users/{id}:revoke-sessions or :reset-mfa with the reason.
async function runAction(a: Action, id: string, reason: string): Promise<string> {
  const opts = { params: { path: { id } }, body: { reason } };
  if (a === "revoke-sessions") {
    const r = await unwrap(api.POST("/users/{id}:revoke-sessions", opts));
    return r.sessions_revoked === 1 ? "1 session ended." : `${r.sessions_revoked} sessions ended.`;
  }
  await unwrap(api.POST("/users/{id}:reset-mfa", opts));
  return "MFA removed; their sessions ended.";
}

// UserAccountActions are the administrator's "Sign out everywhere" and "Reset MFA" on
// another user, each confirmed with a reason that goes to the audit trail. One's own
// account is managed from the account page, so they are not offered there.
export function UserAccountActions({ user }: { user: User }) {
  const qc = useQueryClient();
  const me = useQuery(meQuery).data;
  const [action, setAction] = useState<Action>();
  const [formError, setFormError] = useState<string>();
  const form = useForm({
    mode: "controlled",
    initialValues: { reason: "" },
    validate: { reason: (v) => (v.trim() === "" ? "Give a reason: it goes to the audit trail." : null) },
  });
  const run = useMutation({
    mutationFn: (v: { a: Action; reason: string }) => runAction(v.a, user.id, v.reason.trim()),
    onSuccess: (message, v) => {
      setAction(undefined);
      void qc.invalidateQueries({ queryKey: ["users"] });
      notifications.show({ color: "teal", title: `${LABEL[v.a]}: ${user.username}`, message });
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["reason"])),
  });
  if (me?.id === user.id) return null;
  const open = (a: Action) => {
    run.reset();
    form.reset();
    setFormError(undefined);
    setAction(a);
  };
  return (
    <Can permission="user:write">
      <Button variant="default" onClick={() => open("revoke-sessions")}>
        Sign out everywhere
      </Button>
      <Button variant="default" onClick={() => open("reset-mfa")}>
        Reset MFA
      </Button>
      <Modal opened={!!action} onClose={() => setAction(undefined)} title={action ? `${LABEL[action]}: ${user.username}?` : ""}>
        {action && (
          <form
            noValidate
            onSubmit={form.onSubmit((v) => {
              setFormError(undefined);
              run.mutate({ a: action, reason: v.reason });
            })}
          >
            <Stack>
              <Text size="sm">{explain(action, user)}</Text>
              <FormError message={formError} />
              <Textarea
                label="Reason"
                description="Recorded in the audit trail."
                withAsterisk
                rows={2}
                data-autofocus
                {...form.getInputProps("reason")}
              />
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setAction(undefined)}>
                  Cancel
                </Button>
                <Button type="submit" color="red" loading={run.isPending}>
                  {LABEL[action]}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Modal>
    </Can>
  );
}
