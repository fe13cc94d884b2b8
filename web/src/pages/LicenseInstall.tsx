import { Alert, Badge, Button, FileButton, Group, List, Modal, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { licenseQuery } from "../api/queries";
import { useCan } from "../auth/session";
import { formatDateTime } from "../lib/format";
import { FormError } from "../components/FormError";

type Verdict = Schemas["LicenseVerifyResponse"];

const MAX_TOKEN = 16384;

// RESULT_TEXT says what each verification result means, for people.
export const RESULT_TEXT: Record<string, string> = {
  valid: "Valid: the license is in force.",
  grace: "Expired, within its grace period: its features still work for now.",
  expired: "Expired: past its grace period, it grants nothing beyond the free tier.",
  not_yet_valid: "Not valid yet: its start date is in the future.",
  malformed: "Not a license: the text is not a signed license token.",
  unsupported_alg: "Refused: the license is not signed with EdDSA.",
  unknown_kid: "Refused: no key this server trusts signed it.",
  bad_signature: "Refused: the signature does not match; the license was altered or forged.",
  wrong_issuer: "Refused: it was not issued by OpenWatch licensing.",
  invalid_claims: "Refused: the license's contents are incomplete or wrong.",
};

// cleanToken takes the token out of pasted or uploaded text: surrounding white space and
// a trailing newline are not part of it.
export function cleanToken(text: string): string {
  return text.trim();
}

function VerdictView({ v }: { v: Verdict }) {
  return (
    <Alert color={v.is_valid ? "teal" : "red"} role="status" title={v.is_valid ? "License valid" : "License not valid"} data-testid="license-verdict">
      <Stack gap="xs">
        <Text size="sm">{RESULT_TEXT[v.verify_result] ?? v.verify_result}</Text>
        {(v.tier || v.expires_at) && (
          <Table aria-label="Verified license" maw={560} withRowBorders={false} verticalSpacing={2}>
            <Table.Tbody>
              <Table.Tr>
                <Table.Th scope="row">Tier</Table.Th>
                <Table.Td>{v.tier ?? "—"}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Expires</Table.Th>
                <Table.Td>{formatDateTime(v.expires_at)}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Features</Table.Th>
                <Table.Td>
                  <FeatureBadges features={v.features} none="none" />
                </Table.Td>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        )}
        {(v.warnings ?? []).length > 0 && (
          <List size="sm">
            {(v.warnings ?? []).map((w) => (
              <List.Item key={w}>{w}</List.Item>
            ))}
          </List>
        )}
      </Stack>
    </Alert>
  );
}

// LicenseInstall checks a license (pasted, or read from a .jwt file) without installing it,
// and installs it: the server verifies it again, writes it and loads it, so the tier
// above changes at once. A license the server refuses says why under the field.
export function LicenseInstall() {
  const qc = useQueryClient();
  const canManage = useCan("license:manage");
  const [formError, setFormError] = useState<string>();
  const [verdict, setVerdict] = useState<Verdict>();
  const [confirming, setConfirming] = useState(false);
  const current = useQuery(licenseQuery).data;
  // Replacing a license in force may take features away: that is confirmed first.
  const inForce = current?.status === "active" || current?.status === "grace";
  const form = useForm<{ license_jwt: string }>({
    mode: "controlled",
    initialValues: { license_jwt: "" },
    validate: {
      license_jwt: (t) =>
        cleanToken(t) === "" ? "Paste a license or choose a file." : cleanToken(t).length > MAX_TOKEN ? `A license is at most ${MAX_TOKEN} characters.` : null,
    },
  });
  const fail = (err: Error) => setFormError(applyFieldError(err, form, ["license_jwt"]));
  const verify = useMutation({
    mutationFn: (t: string) => unwrap(api.POST("/admin/license:verify", { body: { license_jwt: t } })),
    onSuccess: setVerdict,
    onError: fail,
  });
  const install = useMutation({
    mutationFn: (t: string) => unwrap(api.PUT("/admin/license", { body: { license_jwt: t } })),
    onSuccess: (st) => {
      qc.setQueryData(licenseQuery.queryKey, st);
      void qc.invalidateQueries({ queryKey: ["license"] });
      setVerdict(undefined);
      setConfirming(false);
      form.reset();
      notifications.show({ color: "teal", message: `License installed: ${st.tier}, ${st.status}.` });
    },
    onError: (err) => {
      setConfirming(false);
      fail(err);
    },
  });
  if (!canManage) return null;
  const run = (which: "verify" | "install") =>
    form.onSubmit((v) => {
      setFormError(undefined);
      setVerdict(undefined);
      (which === "verify" ? verify : install).mutate(cleanToken(v.license_jwt));
    })();
  return (
    <Stack gap="sm" component="section" aria-labelledby="license-install-title" maw={720}>
      <Title order={2} size="h4" id="license-install-title">
        Install a license
      </Title>
      <Text size="sm" c="dimmed">
        Paste the license you received, or choose its .jwt file. Verify shows what it grants without changing anything;
        Install makes it this installation's license at once.
      </Text>
      <FormError message={formError} />
      <form noValidate onSubmit={(e) => (e.preventDefault(), run("verify"))}>
        <Stack gap="sm">
          <Textarea
            label="License token"
            autosize
            minRows={3}
            maxRows={8}
            spellCheck={false}
            autoComplete="off"
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", wordBreak: "break-all" } }}
            {...form.getInputProps("license_jwt")}
          />
          <Group>
            <FileButton
              accept=".jwt,.txt,application/jwt,text/plain"
              onChange={(file) => {
                if (!file) return;
                void file.text().then((text) => {
                  form.setFieldValue("license_jwt", cleanToken(text));
                  setVerdict(undefined);
                  setFormError(undefined);
                });
              }}
            >
              {(props) => (
                <Button variant="default" {...props}>
                  Choose .jwt file
                </Button>
              )}
            </FileButton>
            <Button type="submit" variant="default" loading={verify.isPending}>
              Verify
            </Button>
            <Button
              onClick={() => (inForce ? form.validate().hasErrors || setConfirming(true) : run("install"))}
              loading={install.isPending}
            >
              Install license
            </Button>
          </Group>
        </Stack>
      </form>
      {verdict && <VerdictView v={verdict} />}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Replace the current license?">
        <Stack>
          <Text size="sm">
            The {current?.tier} license in force{current?.expires_at ? ` (until ${formatDateTime(current.expires_at)})` : ""} is
            replaced at once by the new one; features it grants and the new one does not stop working.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep the current license
            </Button>
            <Button onClick={() => run("install")} loading={install.isPending}>
              Replace license
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

// FeatureBadges lists a license's features, or says there are none.
export function FeatureBadges({ features, none }: { features?: string[] | null; none: string }) {
  return (
    <Group gap={4}>
      {(features ?? []).length === 0
        ? none
        : (features ?? []).map((f) => (
            <Badge key={f} variant="default" miw="fit-content">
              {f}
            </Badge>
          ))}
    </Group>
  );
}
