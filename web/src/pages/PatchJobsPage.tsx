import { notifications } from "@mantine/notifications";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { ChangeDetail } from "./ChangeDetail";
import { PatchJobForm } from "./ChangeForm";
import { ChangeList } from "./ChangeList";

// PatchJobsPage lists patch jobs under the status of the URL and creates new ones
// (?new=true opens the form).
export function PatchJobsPage() {
  const search = useSearch({ from: "/app/jobs" });
  const navigate = useNavigate({ from: "/jobs" });
  return (
    <ChangeList
      kind="patch"
      status={search.status}
      onStatus={(status) => void navigate({ search: (s) => ({ ...s, status }) })}
      creating={!!search.new}
      onCreating={(on) => void navigate({ search: (s) => ({ ...s, new: on || undefined }) })}
      newLabel="New patch job"
      newPermission="patch:request"
      form={
        <PatchJobForm
          onDone={(j) => {
            notifications.show({ color: "teal", message: `Patch job created: ${j.host_count} ${j.host_count === 1 ? "host" : "hosts"}, ${j.status.replace("_", " ")}.` });
            void navigate({ to: "/jobs/$jobId", params: { jobId: j.id } });
          }}
        />
      }
    />
  );
}

// PatchJobPage is one patch job.
export function PatchJobPage() {
  const { jobId } = useParams({ from: "/app/jobs/$jobId" });
  return <ChangeDetail kind="patch" id={jobId} />;
}
