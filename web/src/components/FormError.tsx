import { Alert } from "@mantine/core";

// FormError is a form's message that belongs to no one field (the server's refusal of the
// whole request, say), announced to screen readers as it appears.
export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert">
      {message}
    </Alert>
  );
}
