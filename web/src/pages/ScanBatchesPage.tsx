import { PageHeader } from "../components/PageHeader";

// ScanBatchesPage is a placeholder while the page is built.
export function ScanBatchesPage() {
  return <PageHeader title="Scan batches" />;
}
