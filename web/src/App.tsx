import { useEffect, useState } from "react";
import { fetchMe, type Me } from "./api/client";
import { SignInPage } from "./SignInPage";
import { SignedInPage } from "./SignedInPage";

type State =
  | { kind: "loading" }
  | { kind: "signed-out"; notice?: string }
  | { kind: "signed-in"; me: Me; mfaEnrollmentRequired: boolean };

export function App() {
  const [state, setState] = useState<State>({ kind: "loading" });

  useEffect(() => {
    let live = true;
    void fetchMe().then((result) => {
      if (!live) return;
      switch (result.kind) {
        case "signed-in":
          setState({ kind: "signed-in", me: result.me, mfaEnrollmentRequired: false });
          break;
        case "signed-out":
          setState({ kind: "signed-out" });
          break;
        case "failed":
          // Offer the sign-in form anyway: signing in retries the server.
          setState({ kind: "signed-out", notice: result.message });
          break;
      }
    });
    return () => {
      live = false;
    };
  }, []);

  switch (state.kind) {
    case "loading":
      return (
        <main className="auth-page">
          <p role="status" className="muted">
            Loading…
          </p>
        </main>
      );
    case "signed-out":
      return (
        <SignInPage
          notice={state.notice}
          onSignedIn={(me, mfaEnrollmentRequired) => setState({ kind: "signed-in", me, mfaEnrollmentRequired })}
        />
      );
    case "signed-in":
      return <SignedInPage me={state.me} mfaEnrollmentRequired={state.mfaEnrollmentRequired} />;
  }
}
