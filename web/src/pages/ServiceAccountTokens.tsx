import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime, formatRelative } from "../lib/format";
import { ConfirmDialog } from "./AdminConfirm";
import { FormError } from "../components/FormError";

type Account = Pick<Schemas["ServiceAccount"], "id" | "name">;
type Token = Schemas["APITokenMeta"];

export const tokensQueryKey = (accountId: string) => ["service-accounts", accountId, "tokens"] as const;

// TokenForm mints a token (POST /service-accounts/{id}/tokens); the secret is shown once,
// with a copy button, and never again.
export function TokenForm({ account, onClose }: { account: Account; onClose: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { name: "", ttl: "90d" } });
  const mint = useMutation({
    mutationFn: (v: { name: string; ttl: string }) =>
      unwrap(
        api.POST("/service-accounts/{id}/tokens", {
          params: { path: { id: account.id } },
          body: v.ttl === "never" ? { name: v.name.trim(), eternal: true } : { name: v.name.trim(), ttl: v.ttl },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: tokensQueryKey(account.id) }),
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "ttl"])),
  });
  if (mint.data) {
    return (
      <Stack>
        <Alert color="teal" role="status" title="Token created">
          Copy it now: it is shown this once and cannot be read again.
        </Alert>
        <Code block className="mono-block" data-testid="new-token">
          {mint.data.token}
        </Code>
        <Group justify="space-between">
          <CopyButton value={mint.data.token}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? "Copied" : "Copy token"}
              </Button>
            )}
          </CopyButton>
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), mint.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Token name" withAsterisk {...form.getInputProps("name")} />
        <Select
          label="Expires"
          data={[
            { value: "24h", label: "In a day" },
            { value: "30d", label: "In 30 days" },
            { value: "90d", label: "In 90 days" },
            { value: "365d", label: "In a year" },
            { value: "never", label: "Never" },
          ]}
          allowDeselect={false}
          {...form.getInputProps("ttl")}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={mint.isPending}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// SigningKeyDialog creates (or replaces, after saying so) a token's signing key for signed
// requests (POST /service-accounts/{id}/tokens/{token_id}:signing-key); the key is shown
// once, with a copy button.
function SigningKeyDialog({ account, token, onClose }: { account: Account; token: Token; onClose: () => void }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/service-accounts/{id}/tokens/{token_id}:signing-key", {
          params: { path: { id: account.id, token_id: token.id } },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: tokensQueryKey(account.id) }),
  });
  return (
    <Modal opened onClose={onClose} title={`Signing key for ${token.name}`}>
      {create.data ? (
        <Stack>
          <Alert color="teal" role="status" title="Signing key created">
            Copy it now: it is shown this once and cannot be read again. Sign requests with it as key id {token.id} (see the README's
            “Signed API requests”).
          </Alert>
          <Code block className="mono-block" data-testid="new-signing-key">
            {create.data.signing_key}
          </Code>
          <Group justify="space-between">
            <CopyButton value={create.data.signing_key}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy}>
                  {copied ? "Copied" : "Copy signing key"}
                </Button>
              )}
            </CopyButton>
            <Button onClick={onClose}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <Stack>
          {create.error && <ErrorAlert error={create.error} />}
          <Text size="sm">
            {token.has_signing_key
              ? "A new signing key replaces the current one at once: scripts signing with the old key are refused from their next request."
              : "A signing key lets scripts sign each request (HTTP Message Signatures, HMAC-SHA256) instead of sending the token's secret."}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button color={token.has_signing_key ? "red" : undefined} loading={create.isPending} onClick={() => create.mutate()}>
              {token.has_signing_key ? "Replace signing key" : "Create signing key"}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function TokenStatus({ status }: { status: Token["status"] }) {
  const color = status === "active" ? "teal" : "gray";
  return (
    <Badge color={color} variant="light" miw="fit-content">
      {status}
    </Badge>
  );
}

// TokensTable lists an account's tokens (GET /service-accounts/{id}/tokens: metadata, never
// the secrets); with revocable, each live token gets a Revoke button that confirms first
// (DELETE /service-accounts/{id}/tokens/{token_id}).
export function TokensTable({ account, revocable = false }: { account: Account; revocable?: boolean }) {
  const qc = useQueryClient();
  const canWrite = useCan("service_account:write");
  const [revoking, setRevoking] = useState<Token>();
  const [keying, setKeying] = useState<Token>();
  const { data, error } = useQuery({
    queryKey: tokensQueryKey(account.id),
    queryFn: () => unwrap(api.GET("/service-accounts/{id}/tokens", { params: { path: { id: account.id } } })),
  });
  if (error) return <ErrorAlert error={error} />;
  if (!data || data.tokens.length === 0) return <Text size="sm" c="dimmed">No token.</Text>;
  const actions = revocable && canWrite;
  return (
    <>
      <Table aria-label={`Tokens of ${account.name}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Token</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Expires</Table.Th>
            <Table.Th scope="col">Last used</Table.Th>
            <Table.Th scope="col">Signing key</Table.Th>
            {actions && (
              <Table.Th scope="col">
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            )}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.tokens.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td>{t.name}</Table.Td>
              <Table.Td>
                <TokenStatus status={t.status} />
              </Table.Td>
              <Table.Td>{t.role}</Table.Td>
              <Table.Td>{formatDateTime(t.created_at)}</Table.Td>
              <Table.Td>{t.expires_at ? formatDateTime(t.expires_at) : "never"}</Table.Td>
              <Table.Td>{formatRelative(t.last_used_at)}</Table.Td>
              <Table.Td>{t.has_signing_key ? `since ${formatDateTime(t.signing_key_created_at ?? t.created_at)}` : "none"}</Table.Td>
              {actions && (
                <Table.Td>
                  {t.status === "active" && (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" variant="default" aria-label={`Signing key of token ${t.name}`} onClick={() => setKeying(t)}>
                        {t.has_signing_key ? "Replace signing key" : "Create signing key"}
                      </Button>
                      <Button size="xs" variant="light" color="red" aria-label={`Revoke token ${t.name}`} onClick={() => setRevoking(t)}>
                        Revoke
                      </Button>
                    </Group>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {keying && <SigningKeyDialog account={account} token={keying} onClose={() => setKeying(undefined)} />}
      {revoking && (
        <ConfirmDialog
          opened
          onClose={() => setRevoking(undefined)}
          title={`Revoke token ${revoking.name}?`}
          confirmLabel="Revoke token"
          action={() =>
            unwrap(
              api.DELETE("/service-accounts/{id}/tokens/{token_id}", {
                params: { path: { id: account.id, token_id: revoking.id } },
              }),
            )
          }
          onDone={() => {
            notifications.show({ color: "teal", message: `Token ${revoking.name} revoked.` });
            setRevoking(undefined);
            void qc.invalidateQueries({ queryKey: tokensQueryKey(account.id) });
          }}
        >
          Whatever uses this token is refused from its next request on. This cannot be undone.
        </ConfirmDialog>
      )}
    </>
  );
}
