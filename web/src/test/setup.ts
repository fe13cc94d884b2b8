import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

// A browser resolves a relative Request URL ("/api/v1/auth/me") against the page; Node's
// Request does not. Make it behave like the browser so the app keeps its real baseUrl.
const NodeRequest = globalThis.Request;
class BrowserRequest extends NodeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === "string" ? new URL(input, window.location.href) : input, init);
  }
}
globalThis.Request = BrowserRequest as typeof Request;

// openapi-fetch captures fetch when the client is created, so install one mock for the
// whole file and give it a fresh implementation in each test.
globalThis.fetch = vi.fn<typeof fetch>(() => Promise.reject(new Error("fetch was not mocked in this test")));

beforeEach(() => {
  vi.mocked(fetch).mockReset();
  vi.mocked(fetch).mockImplementation(() => Promise.reject(new Error("fetch was not mocked in this test")));
  window.localStorage.clear();
  window.sessionStorage.clear();
});

afterEach(() => {
  cleanup();
});
