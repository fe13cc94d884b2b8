import { Anchor, Center, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { api, rememberLogin } from "../api/client";
import { errorMessage, unwrap } from "../api/errors";
import { meQuery, permissionsQuery } from "../auth/session";
import { FormError } from "../components/FormError";

// SSOCallbackPage is where a single sign-on lands: it exchanges the one-time handoff code
// from the URL for a session (once; the code works once) and goes on signed in.
export function SSOCallbackPage() {
  const { handoff } = useSearch({ from: "/sso/callback" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [error, setError] = useState<string>();
  const started = useRef(false);

  useEffect(() => {
    document.title = "Signing in · OpenWatch";
    if (started.current) return;
    started.current = true;
    if (!handoff) {
      setError("This page needs a sign-in handoff code; start the sign-in again.");
      return;
    }
    void (async () => {
      try {
        const res = await unwrap(api.POST("/auth/sso/handoff", { body: { handoff_code: handoff } }));
        rememberLogin(res);
        qc.setQueryData(meQuery.queryKey, res.user);
        await qc.invalidateQueries({ queryKey: permissionsQuery.queryKey });
        await navigate({ to: "/", replace: true });
      } catch (err) {
        setError(errorMessage(err));
      }
    })();
  }, [handoff, navigate, qc]);

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w={400} maw="100%">
        <Stack>
          <Title order={1} size="h2">
            OpenWatch
          </Title>
          {error ? (
            <>
              <FormError message={error} />
              <Anchor component={Link} to="/sign-in">
                Back to sign-in
              </Anchor>
            </>
          ) : (
            <Stack align="center" role="status">
              <Loader size="sm" />
              <Text>Signing you in…</Text>
            </Stack>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
