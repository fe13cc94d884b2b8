import type { ReactNode } from "react";
import { useCan } from "./session";

// Can renders its children only when the caller holds the permission. Write controls are
// hidden this way rather than shown and refused.
export function Can({ permission, children }: { permission: string; children: ReactNode }) {
  return useCan(permission) ? <>{children}</> : null;
}
