import { Alert, Button, Card, Code, CopyButton, Group, List, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { QRCodeSVG } from "qrcode.react";
import { useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { meQuery } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { PageHeader } from "../components/PageHeader";

// MFAEnrolment turns on a one-time-code authenticator: enrol (a QR code and the secret),
// confirm with a current code, then keep the recovery codes shown this once.
function MFAEnrolment() {
  const [otp, setOtp] = useState("");
  const enroll = useMutation({ mutationFn: () => unwrap(api.POST("/auth/mfa:enroll")) });
  const verify = useMutation({
    mutationFn: (code: string) => unwrap(api.POST("/auth/mfa:verify", { body: { otp: code } })),
  });
  const codes = verify.data && "recovery_codes" in verify.data ? verify.data.recovery_codes : undefined;

  if (codes) {
    return (
      <Stack>
        <Alert color="teal" role="status" title="Authenticator enabled">
          Keep these recovery codes somewhere safe. Each works once, instead of a one-time code, and they are not shown
          again.
        </Alert>
        <Code block className="mono-block" data-testid="recovery-codes">
          {codes.join("\n")}
        </Code>
        <CopyButton value={codes.join("\n")}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy}>
              {copied ? "Copied" : "Copy recovery codes"}
            </Button>
          )}
        </CopyButton>
      </Stack>
    );
  }
  if (!enroll.data) {
    return (
      <Stack align="flex-start">
        <Text>Protect your account with a one-time code from an authenticator app.</Text>
        <ErrorAlert error={enroll.error} />
        <Button onClick={() => enroll.mutate()} loading={enroll.isPending}>
          Set up authenticator
        </Button>
      </Stack>
    );
  }
  return (
    <Stack>
      <Text>Scan this code with your authenticator app, or type the secret into it.</Text>
      <div style={{ background: "white", padding: 12, width: "fit-content" }}>
        <QRCodeSVG value={enroll.data.provisioning_uri} size={180} role="img" aria-label="Authenticator QR code" />
      </div>
      <Text size="sm">
        Secret: <Code data-testid="mfa-secret">{enroll.data.secret}</Code>
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          verify.mutate(otp.replace(/\s+/g, ""));
        }}
      >
        <Group align="flex-end">
          <TextInput
            label="Code from the app"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={7}
            value={otp}
            onChange={(e) => setOtp(e.currentTarget.value)}
            error={verify.error?.message}
          />
          <Button type="submit" loading={verify.isPending}>
            Confirm
          </Button>
        </Group>
      </form>
    </Stack>
  );
}

export function AccountPage() {
  const { data: me } = useQuery(meQuery);
  return (
    <>
      <PageHeader title="Account and security" description={me ? `${me.username} · ${me.email}` : undefined} />
      <Card withBorder maw={640} component="section" aria-label="Authenticator">
        <Title order={2} size="h4" mb="sm">
          Authenticator (MFA)
        </Title>
        <MFAEnrolment />
        <List size="sm" mt="md" c="dimmed">
          <List.Item>Signing in then asks for the current code after your password.</List.Item>
        </List>
      </Card>
    </>
  );
}
