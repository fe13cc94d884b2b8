import { Anchor, Button, Center, Divider, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { api, rememberLogin, type LoginRequest } from "../api/client";
import { ApiError, applyFieldError, unwrap } from "../api/errors";
import { meQuery, permissionsQuery } from "../auth/session";
import { FormError } from "../components/FormError";

type Step = "password" | "otp";

interface Values {
  username: string;
  password: string;
  otp: string;
  recovery_code: string;
}

const FIELDS = ["username", "password", "otp", "recovery_code"] as const;

// SignInPage signs in with username and password, then, for accounts with an
// authenticator, asks for the one-time code (or a recovery code) in a second step. After
// signing in it returns to the page the user was sent here from.
export function SignInPage() {
  const { redirect, sso_error: ssoError } = useSearch({ from: "/sign-in" });
  // The enabled single sign-on providers: one button each (a full-page navigation to
  // the server, which redirects to the provider).
  const providers = useQuery({
    queryKey: ["sso", "enabled"],
    queryFn: async () => (await unwrap(api.GET("/sso/providers/enabled"))).providers,
    retry: false,
  });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [step, setStep] = useState<Step>("password");
  const [useRecovery, setUseRecovery] = useState(false);
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = "Sign in · OpenWatch";
  }, []);

  const form = useForm<Values>({
    mode: "controlled",
    initialValues: { username: "", password: "", otp: "", recovery_code: "" },
    validate: {
      username: (v) => (v.trim() === "" ? "Enter your username." : null),
      password: (v) => (v === "" ? "Enter your password." : null),
      otp: (v) => (step === "otp" && !useRecovery && !/^[0-9]{6}$/.test(v.replace(/\s+/g, "")) ? "The one-time code is 6 digits." : null),
      recovery_code: (v) => (step === "otp" && useRecovery && v.trim() === "" ? "Enter one of your recovery codes." : null),
    },
  });

  useEffect(() => {
    if (step === "otp") codeRef.current?.focus();
  }, [step, useRecovery]);

  async function submit(values: Values) {
    setFormError(undefined);
    const body: LoginRequest = { username: values.username.trim(), password: values.password };
    if (step === "otp") {
      if (useRecovery) body.recovery_code = values.recovery_code.trim();
      else body.otp = values.otp.replace(/\s+/g, "");
    }
    setBusy(true);
    try {
      const res = await unwrap(api.POST("/auth/login", { body }));
      rememberLogin(res);
      qc.setQueryData(meQuery.queryKey, res.user);
      await qc.invalidateQueries({ queryKey: permissionsQuery.queryKey });
      if (res.mfa_enrollment_required) {
        await navigate({ to: "/account" });
      } else {
        await navigate({ to: redirect ?? "/" });
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === "auth.mfa_required") {
        setStep("otp");
        return;
      }
      if (err instanceof ApiError && err.code === "auth.mfa_invalid") {
        // Clear the used code first: changing a value clears its error.
        form.setFieldValue(useRecovery ? "recovery_code" : "otp", "");
        form.setFieldError(useRecovery ? "recovery_code" : "otp", err.message);
        return;
      }
      if (step === "otp" && err instanceof ApiError && err.status === 401) {
        // A wrong code on the second step answers like a wrong password: say so there.
        form.setFieldError(useRecovery ? "recovery_code" : "otp", err.message);
        return;
      }
      setFormError(applyFieldError(err, form, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w={400} maw="100%">
        <Stack>
          <div>
            <Title order={1} size="h2">
              OpenWatch
            </Title>
            <Text c="dimmed" size="sm">
              {step === "password" ? "Sign in to the fleet compliance console." : "Enter the code from your authenticator app."}
            </Text>
          </div>
          {redirect && step === "password" && (
            <Text size="sm" role="status">
              Sign in to continue where you were.
            </Text>
          )}
          <FormError message={formError ?? (ssoError ? `Single sign-on failed: ${ssoError.slice(0, 300)}` : undefined)} />
          <form onSubmit={form.onSubmit((v) => void submit(v))} noValidate aria-busy={busy}>
            <Stack>
              {step === "password" ? (
                <>
                  <TextInput
                    label="Username"
                    autoComplete="username"
                    autoCapitalize="none"
                    spellCheck={false}
                    autoFocus
                    maxLength={256}
                    {...form.getInputProps("username")}
                  />
                  <PasswordInput
                    label="Password"
                    autoComplete="current-password"
                    maxLength={256}
                    {...form.getInputProps("password")}
                  />
                </>
              ) : useRecovery ? (
                <TextInput
                  ref={codeRef}
                  label="Recovery code"
                  description="Each recovery code works once."
                  autoComplete="off"
                  spellCheck={false}
                  maxLength={64}
                  {...form.getInputProps("recovery_code")}
                />
              ) : (
                <TextInput
                  ref={codeRef}
                  label="One-time code"
                  description="6 digits from your authenticator app."
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  maxLength={7}
                  {...form.getInputProps("otp")}
                />
              )}
              <Button type="submit" loading={busy}>
                {step === "password" ? "Sign in" : "Verify"}
              </Button>
              {step === "otp" && (
                <Stack gap={4} align="flex-start">
                  <Anchor component="button" type="button" size="sm" onClick={() => setUseRecovery((r) => !r)}>
                    {useRecovery ? "Use a one-time code instead" : "Use a recovery code instead"}
                  </Anchor>
                  <Anchor
                    component="button"
                    type="button"
                    size="sm"
                    onClick={() => {
                      setStep("password");
                      setUseRecovery(false);
                      form.setValues({ otp: "", recovery_code: "", password: "" });
                    }}
                  >
                    Sign in as someone else
                  </Anchor>
                </Stack>
              )}
            </Stack>
          </form>
          {step === "password" && (providers.data ?? []).length > 0 && (
            <>
              <Divider label="or" labelPosition="center" />
              <Stack gap="xs" aria-label="Single sign-on">
                {(providers.data ?? []).map((p) => (
                  <Button key={p.id} component="a" href={p.login_path} variant="default">
                    Sign in with {p.name}
                  </Button>
                ))}
              </Stack>
            </>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
