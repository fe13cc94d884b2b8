import { screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { forgetSession } from "../api/client";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

afterEach(() => forgetSession());

const providerID = "0190a0c4-0000-7000-8000-00000000beef";

describe("single sign-on", () => {
  it("offers a button per enabled provider and shows why a sign-in through one failed", async () => {
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "GET /api/v1/sso/providers/enabled": () =>
        json(200, { providers: [{ id: providerID, name: "Corp IdP", login_path: `/api/v1/auth/sso/${providerID}/login` }] }),
    });
    renderApp("/sign-in?sso_error=This%20sign-in%20took%20too%20long%20and%20expired%3B%20start%20it%20again.");
    const button = await screen.findByRole("link", { name: "Sign in with Corp IdP" });
    expect(button.getAttribute("href")).toBe(`/api/v1/auth/sso/${providerID}/login`);
    expect((await screen.findByRole("alert")).textContent).toBe("Single sign-on failed: This sign-in took too long and expired; start it again.");
  });

  it("exchanges the handoff code once and lands signed in", async () => {
    let signedIn = false;
    const seen = fakeServer({
      "GET /api/v1/auth/me": () => (signedIn ? json(200, alice) : envelope(401, "auth.required", "Sign in first.")),
      "POST /api/v1/auth/sso/handoff": () => {
        signedIn = true;
        return json(200, { access_token: "a1", refresh_token: "r1", user: alice });
      },
      "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions([])),
      "GET /api/v1/fleet/score": () => json(200, { passing_fraction: 0.5, total_evaluations: 10 }),
    });
    const { router } = renderApp("/sso/callback?handoff=code-1");
    await waitFor(() => expect(router.state.location.pathname).toBe("/"));
    // The landing page's route finishes loading before the test ends, not after teardown.
    await waitFor(() => expect(router.state.status).toBe("idle"));
    const exchanges = seen.filter((r) => r.path === "/api/v1/auth/sso/handoff");
    expect(exchanges.map((r) => r.body)).toEqual([{ handoff_code: "code-1" }]);
  });

  it("says so when the handoff code is refused", async () => {
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "POST /api/v1/auth/sso/handoff": () =>
        envelope(400, "auth.invalid_handoff", "The sign-in handoff code is unknown, expired or already used; sign in again."),
    });
    renderApp("/sso/callback?handoff=used");
    expect((await screen.findByRole("alert")).textContent).toMatch(/unknown, expired or already used/);
    expect(screen.getByRole("link", { name: "Back to sign-in" }).getAttribute("href")).toBe("/sign-in");
  });
});
