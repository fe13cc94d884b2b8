import { Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ErrorAlert } from "../components/ErrorAlert";

// ConfirmDialog asks before a destructive action. The action runs only on "confirm"; while
// it runs the dialog stays open, and when the server refuses (the last admin, a role still
// held) its message shows in the dialog instead of closing it.
export function ConfirmDialog({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  action,
  onDone,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  action: () => Promise<unknown>;
  onDone: () => void;
}) {
  const run = useMutation({ mutationFn: action, onSuccess: onDone });
  const close = () => {
    run.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title}>
      <Stack>
        {typeof children === "string" ? <Text size="sm">{children}</Text> : children}
        <ErrorAlert error={run.error} title="Not done" />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={run.isPending} onClick={() => run.mutate()}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
