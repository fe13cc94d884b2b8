import { Button, type ButtonProps } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/errors";

// OscalDownload saves a completed scan's OSCAL assessment results (or those of one rule's
// result in it) as a JSON file. The download goes through the API client, so an expired
// session renews, and is saved from a blob.
export function OscalDownload({ scanId, ruleId, size = "sm" }: { scanId: string; ruleId?: string; size?: ButtonProps["size"] }) {
  const download = useMutation({
    mutationFn: async () => {
      const blob = ruleId
        ? await unwrap(api.GET("/scans/{id}/rules/{ruleId}/oscal", { params: { path: { id: scanId, ruleId } }, parseAs: "blob" }))
        : await unwrap(api.GET("/scans/{id}/oscal", { params: { path: { id: scanId } }, parseAs: "blob" }));
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `openwatch-scan-${scanId}${ruleId ? `-${ruleId}` : ""}-oscal.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    onError: (err) => notifications.show({ color: "red", title: "OSCAL export failed", message: err.message }),
  });
  const what = ruleId ? "this result" : "this scan";
  return (
    <Button
      variant="default"
      size={size}
      onClick={() => download.mutate()}
      loading={download.isPending}
      title={`Download ${what} as OSCAL assessment results (JSON)`}
      aria-label={`Download OSCAL assessment results of ${what}`}
    >
      OSCAL
    </Button>
  );
}
