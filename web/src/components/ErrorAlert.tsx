import { Alert } from "@mantine/core";
import { ApiError, errorMessage } from "../api/errors";

// ErrorAlert shows a failed request as one sentence; a 403 reads "You lack permission X".
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <Alert color={forbidden ? "orange" : "red"} role="alert" title={title ?? (forbidden ? "Not allowed" : "Request failed")}>
      {errorMessage(error)}
    </Alert>
  );
}
