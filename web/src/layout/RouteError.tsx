import { Alert, Stack, Text, Title } from "@mantine/core";
import type { ErrorComponentProps } from "@tanstack/react-router";
import { errorMessage } from "../api/errors";
import { AnchorLink } from "../components/links";

export function RouteError({ error }: ErrorComponentProps) {
  return (
    <Stack p="md">
      <Title order={1}>Something went wrong</Title>
      <Alert color="red" role="alert" title="This page could not be shown">
        {errorMessage(error)}
      </Alert>
    </Stack>
  );
}

export function RouteNotFound() {
  return (
    <Stack p="md">
      <Title order={1}>Page not found</Title>
      <Text>
        There is nothing at this address. <AnchorLink to="/" underline="always">Go to the dashboard</AnchorLink>.
      </Text>
    </Stack>
  );
}
