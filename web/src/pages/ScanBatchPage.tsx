import { PageHeader } from "../components/PageHeader";

// ScanBatchPage is a placeholder while the page is built.
export function ScanBatchPage() {
  return <PageHeader title="Scan batch" />;
}
