import { PageHeader } from "../components/PageHeader";

// ServiceAccountPage is a placeholder while the page is built.
export function ServiceAccountPage() {
  return <PageHeader title="Service account" />;
}
