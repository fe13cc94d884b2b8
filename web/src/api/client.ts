import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["AuthMeResponse"];
export type ErrorEnvelope = Schemas["ErrorEnvelope"];
export type LoginRequest = Schemas["AuthLoginRequest"];
export type LoginResponse = Schemas["AuthLoginResponse"];

// The browser session travels in the HttpOnly `openwatch_session` cookie that
// POST /auth/login sets. The login response also carries a refresh token; it is kept in
// memory only (never in storage a script could read later), so that a session whose cookie
// stops working can be renewed once through POST /auth/refresh. After a renewal the new
// access token goes along as a bearer header, because refresh does not set a cookie.
interface Tokens {
  access?: string;
  refresh?: string;
}

let tokens: Tokens = {};
// signedIn is true between a successful sign-in (or a page load that found a live
// session) and the end of that session. Only then does a 401 mean "your session expired":
// before it, a 401 is just the normal signed-out state.
let signedIn = false;
let refreshing: Promise<boolean> | null = null;
const expiredListeners = new Set<() => void>();

// rememberLogin stores the tokens of a successful sign-in.
export function rememberLogin(res: LoginResponse): void {
  tokens = { refresh: res.refresh_token };
  signedIn = true;
}

// markSignedIn records that the cookie session works (found on page load).
export function markSignedIn(): void {
  signedIn = true;
}

// forgetSession drops the tokens, e.g. on sign-out or when the session has ended.
export function forgetSession(): void {
  tokens = {};
  signedIn = false;
}

// onSessionExpired registers a callback run when a signed-in session can no longer be
// used and could not be renewed. It returns the function that unregisters it.
export function onSessionExpired(fn: () => void): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

// These answer 401 as part of their normal work (wrong password, used refresh token, a
// wrong current password on a password change), so a 401 from them never triggers a
// renewal nor ends the session.
const NO_RENEW = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/password:change"];

function withBearer(req: Request): Request {
  if (!tokens.access) return req;
  const headers = new Headers(req.headers);
  headers.set("Authorization", `Bearer ${tokens.access}`);
  return new Request(req, { headers });
}

// renew exchanges the refresh token for a new pair, once at a time however many requests
// failed together.
function renew(): Promise<boolean> {
  if (refreshing) return refreshing;
  const refreshToken = tokens.refresh;
  if (!refreshToken) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch(
        new Request("/api/v1/auth/refresh", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: refreshToken }),
        }),
      );
      if (!res.ok) return false;
      const body = (await res.json()) as LoginResponse;
      tokens = { access: body.access_token, refresh: body.refresh_token };
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function sessionEnded(): void {
  const wasSignedIn = signedIn;
  forgetSession();
  if (wasSignedIn) for (const fn of expiredListeners) fn();
}

// authFetch sends a request and, when a signed-in session answers 401, renews the session
// once and repeats the request; when renewal fails it reports the session as ended.
export async function authFetch(input: Request): Promise<Response> {
  // The body can be read once only: keep a copy for the repeat.
  const spare = input.clone();
  const res = await fetch(withBearer(input));
  if (res.status !== 401 || !signedIn) return res;
  const path = new URL(input.url, window.location.href).pathname;
  if (NO_RENEW.includes(path)) return res;
  if (await renew()) {
    const again = await fetch(withBearer(spare));
    if (again.status !== 401) return again;
  }
  sessionEnded();
  return res;
}

export const api = createClient<paths>({
  baseUrl: "/api/v1",
  credentials: "same-origin",
  headers: { Accept: "application/json" },
  fetch: authFetch,
});
