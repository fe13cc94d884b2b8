import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { forgetSession } from "../api/client";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const loginOK = { access_token: "a1", refresh_token: "r1", user: alice };
const noHosts = { hosts: [], next_cursor: null };

afterEach(() => forgetSession());

async function typeCredentials(username = "alice", password = "correct horse") {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Username"), username);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

describe("sign-in", () => {
  it("sends a signed-out visitor to sign in, then back to the page with its filters", async () => {
    let signedIn = false;
    const seen = fakeServer({
      "GET /api/v1/auth/me": () => (signedIn ? json(200, alice) : envelope(401, "auth.required", "Sign in first.")),
      "POST /api/v1/auth/login": () => {
        signedIn = true;
        return json(200, loginOK);
      },
      "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(["host:read"])),
      "GET /api/v1/hosts": () => json(200, noHosts),
      "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    });
    const { router } = renderApp("/hosts?q=web");
    await waitFor(() => expect(router.state.location.pathname).toBe("/sign-in"));
    expect(router.state.location.search).toEqual({ redirect: "/hosts?q=web" });
    expect((await screen.findByRole("status")).textContent).toMatch(/continue where you were/);

    await typeCredentials("  alice ");
    await waitFor(() => expect(router.state.location.href).toBe("/hosts?q=web"));
    expect(await screen.findByRole("heading", { level: 1, name: "Hosts" })).toBeTruthy();
    const loginReq = seen.find((r) => r.path === "/api/v1/auth/login");
    expect(loginReq?.body).toEqual({ username: "alice", password: "correct horse" });
    const hostsReq = seen.find((r) => r.path === "/api/v1/hosts");
    expect(hostsReq?.query.get("q")).toBe("web");
  });

  it("asks for the one-time code when the account has MFA, and sends it with the password", async () => {
    const bodies: unknown[] = [];
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "POST /api/v1/auth/login": ({ body }) => {
        bodies.push(body);
        const b = body as { otp?: string };
        if (!b.otp) return envelope(401, "auth.mfa_required", "This account requires a one-time code.");
        if (b.otp !== "123456") return envelope(401, "auth.mfa_invalid", "The one-time code is wrong or was already used.");
        return json(200, loginOK);
      },
      "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions([])),
      "GET /api/v1/fleet/score": () => json(200, { passing_fraction: 0.5, total_evaluations: 10 }),
    });
    const { router } = renderApp("/sign-in");
    const user = await typeCredentials();

    const code = await screen.findByLabelText("One-time code");
    await waitFor(() => expect(document.activeElement).toBe(code));
    expect(screen.queryByLabelText("Password")).toBeNull();

    // A code that is not 6 digits never leaves the browser.
    await user.type(code, "12");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("The one-time code is 6 digits.")).toBeTruthy();
    expect(bodies).toHaveLength(1);

    await user.clear(code);
    await user.type(code, "654321");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("The one-time code is wrong or was already used.")).toBeTruthy();

    await user.type(screen.getByLabelText("One-time code"), "123 456");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/"));
    expect(bodies).toEqual([
      { username: "alice", password: "correct horse" },
      { username: "alice", password: "correct horse", otp: "654321" },
      { username: "alice", password: "correct horse", otp: "123456" },
    ]);
  });

  it("accepts a recovery code instead of the one-time code", async () => {
    const bodies: unknown[] = [];
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "POST /api/v1/auth/login": ({ body }) => {
        bodies.push(body);
        const b = body as { recovery_code?: string };
        return b.recovery_code ? json(200, loginOK) : envelope(401, "auth.mfa_required", "Code needed.");
      },
      "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions([])),
    });
    const { router } = renderApp("/sign-in?redirect=%2Frules");
    const user = await typeCredentials();
    await user.click(await screen.findByRole("button", { name: "Use a recovery code instead" }));
    await user.type(screen.getByLabelText("Recovery code"), "abcd-efgh");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/rules"));
    expect(bodies[1]).toEqual({ username: "alice", password: "correct horse", recovery_code: "abcd-efgh" });
  });

  it("shows the server's message for wrong credentials and ignores a redirect off the site", async () => {
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "POST /api/v1/auth/login": () => envelope(401, "auth.invalid_credentials", "Wrong username or password."),
    });
    const { router } = renderApp("/sign-in?redirect=%2F%2Fevil.example");
    await typeCredentials();
    expect((await screen.findByRole("alert")).textContent).toBe("Wrong username or password.");
    expect(router.state.location.search).toEqual({});
  });
});
