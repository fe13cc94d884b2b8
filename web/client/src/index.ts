// The OpenWatch API client for TypeScript: the types generated from the API document
// (schema.d.ts, the same file the web UI uses) and a thin client over openapi-fetch that
// adds authentication, Idempotency-Key headers, typed errors and a pagination helper.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type ErrorEnvelope = Schemas["ErrorEnvelope"];

export interface OpenWatchOptions {
  /** The server's address, such as https://openwatch.example:8443 (without /api/v1). */
  baseUrl: string;
  /** A bearer token: an access token or an API token. */
  token?: string;
  /** The fetch to use (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
}

/** An answer of 400 or above, read from the error envelope. */
export class OpenWatchError extends Error {
  readonly status: number;
  readonly code: string;
  readonly correlationId: string;
  readonly retryable: boolean;
  readonly detail: Record<string, unknown>;

  constructor(status: number, body: unknown) {
    const env = (body as Partial<ErrorEnvelope> | undefined)?.error;
    super(env?.human_message ? `HTTP ${status}: ${env.human_message} (${env.code})` : `HTTP ${status}`);
    this.name = "OpenWatchError";
    this.status = status;
    this.code = env?.code ?? "";
    this.correlationId = env?.correlation_id ?? "";
    this.retryable = env?.retryable ?? false;
    this.detail = (env?.detail as Record<string, unknown> | undefined) ?? {};
  }
}

/** One page of a cursor-paginated list. */
export interface Page<T> {
  items: T[];
  next: string | null | undefined;
}

/** A fresh Idempotency-Key value: send the same one on every retry of one logical call. */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/** The headers that make a POST safe to retry. */
export function idempotent(key: string = idempotencyKey()): { "Idempotency-Key": string } {
  return { "Idempotency-Key": key };
}

/**
 * unwrap returns the data of an openapi-fetch result, or throws an OpenWatchError.
 *
 *     const me = unwrap(await ow.api.GET("/auth/me"));
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok || result.error !== undefined) {
    throw new OpenWatchError(result.response.status, result.error);
  }
  return result.data as T;
}

/** paginate yields every item of a cursor-paginated list, fetching pages as needed. */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (!page.next) return;
    cursor = page.next;
  }
}

export interface OpenWatchClient {
  /** The openapi-fetch client: every operation, typed from the API document. */
  api: Client<paths>;
  /** Sign in with a password (and the MFA code when the account has one); later calls use the access token. */
  login(username: string, password: string, otp?: string): Promise<Schemas["AuthLoginResponse"]>;
  /** Replace the bearer token. */
  setToken(token: string | undefined): void;
  /** Every host matching the query, page by page. */
  hosts(query?: Omit<NonNullable<paths["/hosts"]["get"]["parameters"]["query"]>, "cursor">): AsyncGenerator<Schemas["HostListItem"]>;
}

/** createOpenWatchClient returns a client of the server at options.baseUrl. */
export function createOpenWatchClient(options: OpenWatchOptions): OpenWatchClient {
  let token = options.token;
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, "") + "/api/v1",
    fetch: options.fetch,
    headers: { Accept: "application/json" },
  });
  const auth: Middleware = {
    onRequest({ request }) {
      if (token && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
  api.use(auth);
  return {
    api,
    async login(username, password, otp) {
      const body: Schemas["AuthLoginRequest"] = { username, password };
      if (otp) body.otp = otp;
      const res = unwrap(await api.POST("/auth/login", { body }));
      token = res.access_token;
      return res;
    },
    setToken(t) {
      token = t;
    },
    hosts(query = {}) {
      return paginate(async (cursor) => {
        const page = unwrap(await api.GET("/hosts", { params: { query: { ...query, cursor } } }));
        return { items: page.hosts, next: page.next_cursor };
      });
    },
  };
}
