import { afterEach, describe, expect, it, vi } from "vitest";
import { alice, envelope, fakeServer, json } from "../test/fakeServer";
import { api, forgetSession, onSessionExpired, rememberLogin } from "./client";

const login = { access_token: "a1", refresh_token: "r1", user: alice };
const hosts = { hosts: [], next_cursor: null };

afterEach(() => forgetSession());

describe("session renewal on 401", () => {
  it("renews once with the refresh token and repeats the request with the new access token", async () => {
    rememberLogin(login);
    let cookieWorks = false;
    const seen = fakeServer({
      "GET /api/v1/hosts": ({ headers }) =>
        cookieWorks || headers.get("Authorization") === "Bearer a2" ? json(200, hosts) : envelope(401, "auth.invalid_token", "Expired."),
      "POST /api/v1/auth/refresh": () => json(200, { access_token: "a2", refresh_token: "r2", user: alice }),
    });
    const expired = vi.fn();
    const off = onSessionExpired(expired);

    const { data, response } = await api.GET("/hosts");
    expect(response.status).toBe(200);
    expect(data).toEqual(hosts);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v1/hosts", "POST /api/v1/auth/refresh", "GET /api/v1/hosts"]);
    expect(seen[1]?.body).toEqual({ refresh_token: "r1" });
    expect(seen[2]?.headers.get("Authorization")).toBe("Bearer a2");
    expect(expired).not.toHaveBeenCalled();

    // Later requests carry the renewed token from the start.
    cookieWorks = true;
    await api.GET("/hosts");
    expect(seen[3]?.headers.get("Authorization")).toBe("Bearer a2");
    off();
  });

  it("renews once for many requests failing together", async () => {
    rememberLogin(login);
    let refreshes = 0;
    fakeServer({
      "GET /api/v1/hosts": ({ headers }) =>
        headers.get("Authorization") === "Bearer a2" ? json(200, hosts) : envelope(401, "auth.invalid_token", "Expired."),
      "POST /api/v1/auth/refresh": async () => {
        refreshes++;
        await new Promise((r) => setTimeout(r, 10));
        return json(200, { access_token: "a2", refresh_token: "r2", user: alice });
      },
    });
    const results = await Promise.all([api.GET("/hosts"), api.GET("/hosts"), api.GET("/hosts")]);
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200]);
    expect(refreshes).toBe(1);
  });

  it("reports the session as ended when renewal fails", async () => {
    rememberLogin(login);
    fakeServer({
      "GET /api/v1/hosts": () => envelope(401, "auth.invalid_token", "Expired."),
      "POST /api/v1/auth/refresh": () => envelope(401, "auth.invalid_token", "The session has ended."),
    });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    const { response } = await api.GET("/hosts");
    expect(response.status).toBe(401);
    expect(expired).toHaveBeenCalledTimes(1);
    off();
  });

  it("leaves a 401 alone before sign-in and on the sign-in call itself", async () => {
    const seen = fakeServer({
      "GET /api/v1/auth/me": () => envelope(401, "auth.required", "Sign in first."),
      "POST /api/v1/auth/login": () => envelope(401, "auth.invalid_credentials", "Wrong username or password."),
    });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    expect((await api.GET("/auth/me")).response.status).toBe(401);
    rememberLogin(login);
    expect((await api.POST("/auth/login", { body: { username: "a", password: "b" } })).response.status).toBe(401);
    expect(seen.map((r) => r.path)).toEqual(["/api/v1/auth/me", "/api/v1/auth/login"]);
    expect(expired).not.toHaveBeenCalled();
    off();
  });
});
