import { Alert, Button, Card, Code, CopyButton, Group, List, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery } from "@tanstack/react-query";
import { QRCodeSVG } from "qrcode.react";
import { useState } from "react";
import { api } from "../api/client";
import { ApiError, applyFieldError, unwrap } from "../api/errors";
import { meQuery } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { PageHeader } from "../components/PageHeader";
import { FormError } from "../components/FormError";

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

interface PasswordValues {
  current_password: string;
  new_password: string;
  confirm: string;
}
const PASSWORD_FIELDS = ["current_password", "new_password", "confirm"] as const;

// passwordChangeError puts the server's refusal on its field: a wrong current password is
// a 401 naming current_password (not the end of the session), a weak new one a 400 on
// new_password. Anything else is returned for the form's alert.
export function passwordChangeError(err: unknown, form: { setFieldError: (f: string, m: string) => void }): string | undefined {
  if (err instanceof ApiError && err.status === 401 && err.field === "current_password") {
    form.setFieldError("current_password", err.message);
    return undefined;
  }
  return applyFieldError(err, form, PASSWORD_FIELDS);
}

// ChangePasswordForm changes the caller's own password (POST /auth/password:change). This
// session stays signed in; every other session of the caller ends.
export function ChangePasswordForm() {
  const [formError, setFormError] = useState<string>();
  const [changed, setChanged] = useState(false);
  const form = useForm<PasswordValues>({
    mode: "controlled",
    initialValues: { current_password: "", new_password: "", confirm: "" },
    validate: {
      current_password: (v) => (v === "" ? "Enter your current password." : null),
      new_password: (v) => (v === "" ? "Enter a new password." : null),
      confirm: (v, all) => (v !== all.new_password ? "The passwords do not match." : null),
    },
  });
  const change = useMutation({
    mutationFn: (v: PasswordValues) =>
      unwrap(api.POST("/auth/password:change", { body: { current_password: v.current_password, new_password: v.new_password } })),
    onSuccess: () => {
      form.reset();
      setChanged(true);
    },
    onError: (err) => setFormError(passwordChangeError(err, form)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        setChanged(false);
        change.mutate(v);
      })}
    >
      <Stack>
        {changed && (
          <Alert color="teal" role="status" title="Password changed">
            You stay signed in here. Every other session of yours has ended: sign in there again with the new password.
          </Alert>
        )}
        <FormError message={formError} />
        <PasswordInput label="Current password" withAsterisk autoComplete="current-password" {...form.getInputProps("current_password")} />
        <PasswordInput
          label="New password"
          description="At least 8 characters, not a common password and not your username."
          withAsterisk
          autoComplete="new-password"
          {...form.getInputProps("new_password")}
        />
        <PasswordInput label="Repeat the new password" withAsterisk autoComplete="new-password" {...form.getInputProps("confirm")} />
        <Group justify="flex-end">
          <Button type="submit" loading={change.isPending}>
            Change password
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function AccountPage() {
  const { data: me } = useQuery(meQuery);
  return (
    <>
      <PageHeader title="Account and security" description={me ? `${me.username} · ${me.email}` : undefined} />
      <Card withBorder maw={640} mb="md" component="section" aria-label="Password">
        <Title order={2} size="h4" mb="sm">
          Password
        </Title>
        <ChangePasswordForm />
      </Card>
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
