import { PageHeader } from "../components/PageHeader";

// GroupDetailPage is a placeholder while the page is built.
export function GroupDetailPage() {
  return <PageHeader title="Group" />;
}
