import { useQueryClient } from "@tanstack/react-query";
import { Outlet, useRouter } from "@tanstack/react-router";
import { useEffect } from "react";
import { onSessionExpired } from "../api/client";
import { safeRedirect } from "../lib/search";

// RootLayout sends the user to sign in when their session ends while they work (it could
// not be renewed), keeping the page they were on so signing in returns them there.
export function RootLayout() {
  const router = useRouter();
  const qc = useQueryClient();
  useEffect(
    () =>
      onSessionExpired(() => {
        const here = router.state.location.href;
        qc.clear();
        void router.navigate({ to: "/sign-in", search: { redirect: safeRedirect(here) } });
      }),
    [router, qc],
  );
  return <Outlet />;
}
