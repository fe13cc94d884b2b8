import { PageHeader } from "../components/PageHeader";

// IntelligencePage is a placeholder while the page is built.
export function IntelligencePage() {
  return <PageHeader title="Intelligence" />;
}
