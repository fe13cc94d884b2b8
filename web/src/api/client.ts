import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Me = components["schemas"]["AuthMeResponse"];
export type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];
export type LoginRequest = components["schemas"]["AuthLoginRequest"];

// The browser session travels in the HttpOnly `openwatch_session` cookie, which the
// server sets on POST /auth/login. Nothing here reads or stores tokens.
export const api = createClient<paths>({
  baseUrl: "/api/v1",
  credentials: "same-origin",
  headers: { Accept: "application/json" },
});

function isErrorEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const inner = (value as { error: unknown }).error;
  return (
    typeof inner === "object" &&
    inner !== null &&
    typeof (inner as { human_message?: unknown }).human_message === "string"
  );
}

// humanMessage turns whatever came back with a failed response into one sentence for people.
// Error responses normally carry the API's error envelope; a proxy in between may answer
// with something else, so fall back to the HTTP status.
export function humanMessage(error: unknown, response: Response | undefined, fallback: string): string {
  if (isErrorEnvelope(error)) {
    const msg = error.error.human_message.trim();
    if (msg !== "") return msg;
  }
  if (response) return `${fallback} (HTTP ${response.status}).`;
  return `${fallback}.`;
}

export type MeResult =
  | { kind: "signed-in"; me: Me }
  | { kind: "signed-out" }
  | { kind: "failed"; message: string };

// fetchMe asks the server who the caller is. A 401 simply means "not signed in".
export async function fetchMe(): Promise<MeResult> {
  try {
    const { data, error, response } = await api.GET("/auth/me");
    if (data) return { kind: "signed-in", me: data };
    if (response.status === 401) return { kind: "signed-out" };
    return { kind: "failed", message: humanMessage(error, response, "Could not load your account") };
  } catch {
    return { kind: "failed", message: "Could not reach the OpenWatch server. Check your connection and try again." };
  }
}
