import { PageHeader } from "../components/PageHeader";

// GroupsPage is a placeholder while the page is built.
export function GroupsPage() {
  return <PageHeader title="Groups" />;
}
