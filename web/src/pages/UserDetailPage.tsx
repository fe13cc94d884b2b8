import { PageHeader } from "../components/PageHeader";

// UserDetailPage is a placeholder while the page is built.
export function UserDetailPage() {
  return <PageHeader title="User" />;
}
