import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { alice, envelope, fakeServer, json } from "./test/fakeServer";

const loginOK = {
  access_token: "header.payload.signature",
  refresh_token: "refresh-secret",
  user: alice,
};

// signedOut is /auth/me without a session: the normal state before sign-in.
const signedOut = () => envelope(401, "auth.required", "Sign in first.");

async function signIn(username: string, password: string, otp?: string) {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Username"), username);
  await user.type(screen.getByLabelText("Password"), password);
  if (otp !== undefined) await user.type(screen.getByLabelText("One-time code"), otp);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("App on load", () => {
  it("shows the sign-in form when /auth/me answers 401", async () => {
    const seen = fakeServer({
      "GET /api/v1/auth/me": signedOut,
    });
    render(<App />);

    expect(await screen.findByLabelText("Username")).toBeInstanceOf(HTMLInputElement);
    expect(screen.getByLabelText("Password")).toHaveProperty("type", "password");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeInstanceOf(HTMLButtonElement);
    // A plain 401 on load is the normal signed-out state, not an error.
    expect(screen.queryByRole("alert")).toBeNull();
    expect(seen).toEqual([{ method: "GET", path: "/api/v1/auth/me", credentials: "same-origin", body: undefined }]);
  });

  it("shows the signed-in page straight away when the session cookie is valid", async () => {
    const seen = fakeServer({ "GET /api/v1/auth/me": () => json(200, alice) });
    render(<App />);

    expect((await screen.findByTestId("me-username")).textContent).toBe("alice");
    expect(screen.getByRole("heading", { level: 1, name: "OpenWatch" })).toBeTruthy();
    expect(screen.queryByLabelText("Password")).toBeNull();
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v1/auth/me"]);
  });

  it("offers the form with the server's message when /auth/me fails for another reason", async () => {
    fakeServer({
      "GET /api/v1/auth/me": () => envelope(503, "service.unavailable", "The database is unreachable."),
    });
    render(<App />);

    expect((await screen.findByRole("alert")).textContent).toBe("The database is unreachable.");
    expect(screen.getByLabelText("Username")).toBeTruthy();
  });
});

describe("sign-in form", () => {
  it("posts username and password, then shows the caller from /auth/me", async () => {
    let signedIn = false;
    const seen = fakeServer({
      "GET /api/v1/auth/me": () =>
        signedIn ? json(200, alice) : signedOut(),
      "POST /api/v1/auth/login": () => {
        signedIn = true;
        return json(200, loginOK);
      },
    });
    render(<App />);
    await signIn("  alice ", "correct horse");

    expect((await screen.findByTestId("me-username")).textContent).toBe("alice");
    expect(screen.getByTestId("me-email").textContent).toBe("alice@example.com");
    expect(screen.getByTestId("me-role").textContent).toBe("security_admin");
    expect(screen.getByTestId("me-id").textContent).toBe(alice.id);
    expect(screen.getByRole("heading", { level: 1, name: "OpenWatch" })).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();

    const login = seen.find((r) => r.method === "POST");
    // No otp key at all when the field is empty; the username is trimmed.
    expect(login).toEqual({
      method: "POST",
      path: "/api/v1/auth/login",
      credentials: "same-origin",
      body: { username: "alice", password: "correct horse" },
    });
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/v1/auth/me",
      "POST /api/v1/auth/login",
      "GET /api/v1/auth/me",
    ]);
  });

  it("never writes the tokens from the login response to web storage", async () => {
    const setItem = vi.spyOn(Storage.prototype, "setItem");
    let signedIn = false;
    fakeServer({
      "GET /api/v1/auth/me": () =>
        signedIn ? json(200, alice) : signedOut(),
      "POST /api/v1/auth/login": () => {
        signedIn = true;
        return json(200, loginOK);
      },
    });
    render(<App />);
    await signIn("alice", "correct horse");
    await screen.findByTestId("me-username");

    expect(setItem).not.toHaveBeenCalled();
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
    expect(document.body.innerHTML).not.toContain(loginOK.access_token);
    expect(document.body.innerHTML).not.toContain(loginOK.refresh_token);
  });

  it("sends the one-time code only when it is filled in", async () => {
    const seen = fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () => envelope(401, "auth.invalid_credentials", "Wrong code."),
    });
    render(<App />);
    await signIn("alice", "pw", "123456");

    await screen.findByRole("alert");
    expect(seen.find((r) => r.method === "POST")?.body).toEqual({
      username: "alice",
      password: "pw",
      otp: "123456",
    });
    // The code is single-use: the field is cleared after a failure.
    expect(screen.getByLabelText("One-time code")).toHaveProperty("value", "");
  });

  it("rejects a one-time code that is not 6 digits without calling the server", async () => {
    const seen = fakeServer({
      "GET /api/v1/auth/me": signedOut,
    });
    render(<App />);
    await signIn("alice", "pw", "12a4");

    expect((await screen.findByRole("alert")).textContent).toBe("The one-time code is 6 digits.");
    expect(seen.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("asks for both fields before calling the server", async () => {
    const seen = fakeServer({
      "GET /api/v1/auth/me": signedOut,
    });
    render(<App />);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Username"), "alice");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect((await screen.findByRole("alert")).textContent).toBe("Enter your username and password.");
    expect(seen.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("shows the envelope's human_message for a wrong password and stays on the form", async () => {
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () =>
        envelope(401, "auth.invalid_credentials", "The username or password is incorrect."),
    });
    render(<App />);
    await signIn("alice", "wrong");

    expect((await screen.findByRole("alert")).textContent).toBe("The username or password is incorrect.");
    expect(screen.queryByTestId("me-username")).toBeNull();
    expect(screen.getByLabelText("Username")).toHaveProperty("value", "alice");
    expect(screen.getByRole("button", { name: "Sign in" })).toHaveProperty("disabled", false);
  });

  it("shows a validation message from a 400 envelope", async () => {
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () =>
        envelope(400, "validation_failed", 'Field "password" must be at most 256 characters.'),
    });
    render(<App />);
    await signIn("alice", "x");

    expect((await screen.findByRole("alert")).textContent).toBe('Field "password" must be at most 256 characters.');
  });

  it("falls back to the HTTP status when the error is not an envelope", async () => {
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () =>
        new Response("<html>Bad Gateway</html>", { status: 502, headers: { "Content-Type": "text/html" } }),
    });
    render(<App />);
    await signIn("alice", "pw");

    expect((await screen.findByRole("alert")).textContent).toBe("Sign-in failed (HTTP 502).");
  });

  it("reports an unreachable server", async () => {
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () => Promise.reject(new TypeError("Failed to fetch")),
    });
    render(<App />);
    await signIn("alice", "pw");

    expect((await screen.findByRole("alert")).textContent).toMatch(/Could not reach the OpenWatch server/);
  });

  it("explains when the login succeeded but the session cookie did not stick", async () => {
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () => json(200, loginOK),
    });
    render(<App />);
    await signIn("alice", "pw");

    expect((await screen.findByRole("alert")).textContent).toMatch(/did not keep the session cookie/);
    expect(screen.queryByTestId("me-username")).toBeNull();
  });

  it("disables the button while the request is in flight", async () => {
    let release: (r: Response) => void = () => {};
    fakeServer({
      "GET /api/v1/auth/me": signedOut,
      "POST /api/v1/auth/login": () => new Promise<Response>((resolve) => (release = resolve)),
    });
    render(<App />);
    await signIn("alice", "pw");

    await waitFor(() => expect(screen.getByRole("button", { name: "Sign in" })).toHaveProperty("disabled", true));
    release(envelope(401, "auth.invalid_credentials", "The username or password is incorrect."));
    await screen.findByRole("alert");
    expect(screen.getByRole("button", { name: "Sign in" })).toHaveProperty("disabled", false);
  });
});
