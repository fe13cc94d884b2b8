import { cleanup, configure } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

// Pages are lazy routes: on a loaded two-core runner their first render can take longer
// than findBy's default 1 s, so waiting queries get 5 s (a failing assertion still fails).
configure({ asyncUtilTimeout: 5_000 });

// A browser resolves a relative Request URL ("/api/v1/auth/me") against the page; Node's
// Request does not. Make it behave like the browser so the app keeps its real baseUrl.
const NodeRequest = globalThis.Request;
class BrowserRequest extends NodeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === "string" ? new URL(input, window.location.href) : input, init);
  }
}
globalThis.Request = BrowserRequest as typeof Request;

// The app's fetch wrapper calls the global fetch at call time; each test installs its
// own implementation (test/fakeServer.ts).
globalThis.fetch = vi.fn<typeof fetch>(() => Promise.reject(new Error("fetch was not mocked in this test")));

// jsdom lacks what Mantine reads for colour scheme and layout.
Object.defineProperty(window, "matchMedia", {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});
class NoopResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= NoopResizeObserver as unknown as typeof ResizeObserver;
window.HTMLElement.prototype.scrollIntoView ??= function scrollIntoView() {};
window.scrollTo = () => {};
// jsdom lays nothing out, so every element measures 0×0 and a virtualised list would show
// no rows. Give elements a window-sized box (the virtualiser reads client sizes).
Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 800 });
Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 1200 });
Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 800 });
Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1200 });

beforeEach(() => {
  vi.mocked(fetch).mockReset();
  vi.mocked(fetch).mockImplementation(() => Promise.reject(new Error("fetch was not mocked in this test")));
  window.localStorage.clear();
  window.sessionStorage.clear();
});

afterEach(() => {
  cleanup();
});
