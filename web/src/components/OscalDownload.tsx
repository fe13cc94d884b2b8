import { Button, type ButtonProps } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/errors";

// OscalDownload saves a completed scan's OSCAL assessment results (or those of one rule's
// result in it, or, with plan, the scan's assessment plan: what the results import) as a
// JSON file. The download goes through the API client, so an expired session renews, and is
// saved from a blob.
export function OscalDownload({
  scanId,
  ruleId,
  plan = false,
  size = "sm",
}: {
  scanId: string;
  ruleId?: string;
  plan?: boolean;
  size?: ButtonProps["size"];
}) {
  const download = useMutation({
    mutationFn: async () => {
      const path = { params: { path: { id: scanId } }, parseAs: "blob" } as const;
      const blob = plan
        ? await unwrap(api.GET("/scans/{id}/oscal/assessment-plan", path))
        : ruleId
          ? await unwrap(api.GET("/scans/{id}/rules/{ruleId}/oscal", { params: { path: { id: scanId, ruleId } }, parseAs: "blob" }))
          : await unwrap(api.GET("/scans/{id}/oscal", path));
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `openwatch-scan-${scanId}${ruleId && !plan ? `-${ruleId}` : ""}-${plan ? "assessment-plan" : "oscal"}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    onError: (err) => notifications.show({ color: "red", title: "OSCAL export failed", message: err.message }),
  });
  const what = ruleId && !plan ? "this result" : "this scan";
  const doc = plan ? "assessment plan" : "assessment results";
  return (
    <Button
      variant="default"
      size={size}
      onClick={() => download.mutate()}
      loading={download.isPending}
      title={`Download ${what} as an OSCAL ${doc} (JSON)`}
      aria-label={plan ? `Download the OSCAL plan of ${what}` : `Download OSCAL ${doc} of ${what}`}
    >
      {plan ? "OSCAL plan" : "OSCAL"}
    </Button>
  );
}
