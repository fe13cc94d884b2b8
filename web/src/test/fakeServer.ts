import { vi } from "vitest";

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Handler = (req: { body: unknown; query: URLSearchParams; headers: Headers }) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function envelope(status: number, code: string, humanMessage: string, detail?: Record<string, unknown>): Response {
  return json(status, {
    error: {
      code,
      fault: status >= 500 ? "server" : "client",
      retryable: status >= 500,
      human_message: humanMessage,
      correlation_id: "corr-test-1",
      ...(detail ? { detail } : {}),
    },
  });
}

export const alice = {
  id: "7d1c7b9e-3f0a-4c55-9a61-2b8c1e0f4a10",
  username: "alice",
  email: "alice@example.com",
  role: "security_admin",
};

export const alicePermissions = (permissions: string[]) => ({
  identity: { id: alice.id, role: alice.role, is_anonymous: false, roles: [alice.role] },
  permissions,
});

// fakeServer answers fetch() by "METHOD /path" and records every request the app made.
// Unknown routes answer 404 in the API's envelope.
export function fakeServer(routes: Record<string, Handler>): Recorded[] {
  const seen: Recorded[] = [];
  vi.mocked(fetch).mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const url = new URL(req.url);
    const text = req.method === "GET" ? "" : await req.text();
    const body: unknown = text === "" ? undefined : JSON.parse(text);
    const key = `${req.method} ${url.pathname}`;
    seen.push({ method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body });
    const handler = routes[key];
    if (!handler) return envelope(404, "route.not_found", `No route for ${key}.`);
    return handler({ body, query: url.searchParams, headers: req.headers });
  });
  return seen;
}
