import { describe, expect, it } from "vitest";
import { json, fakeServer } from "../test/fakeServer";
import {
  describeSelection,
  isSelected,
  loadedState,
  NO_SELECTION,
  runBulk,
  scanBatchBody,
  selectedHosts,
  toggleLoaded,
  toggleOne,
  type BulkHost,
  type Selection,
} from "./BulkSelection";

const ids = (sel: Selection) => (sel.kind === "ids" ? [...sel.ids].sort() : "all");

async function* from<T>(items: T[]) {
  for (const x of items) yield x;
}

describe("selection", () => {
  const loaded = ["a", "b", "c"];

  it("toggles rows one by one and reports the header state", () => {
    let sel = toggleOne(NO_SELECTION, "a", loaded);
    expect(ids(sel)).toEqual(["a"]);
    expect(loadedState(sel, loaded)).toBe("some");
    sel = toggleOne(sel, "b", loaded);
    sel = toggleOne(sel, "c", loaded);
    expect(loadedState(sel, loaded)).toBe("all");
    sel = toggleOne(sel, "b", loaded);
    expect(ids(sel)).toEqual(["a", "c"]);
    expect(describeSelection(sel)).toBe("2 hosts selected");
    expect(loadedState(NO_SELECTION, loaded)).toBe("none");
    expect(loadedState(NO_SELECTION, [])).toBe("none");
  });

  it("selects every loaded row, then clears when all are selected", () => {
    const some = toggleOne(NO_SELECTION, "b", loaded);
    const all = toggleLoaded(some, loaded);
    expect(ids(all)).toEqual(["a", "b", "c"]);
    expect(toggleLoaded(all, loaded)).toBe(NO_SELECTION);
  });

  it("keeps the loaded rows but one when a row is unticked from 'all matching'", () => {
    const all: Selection = { kind: "all" };
    expect(isSelected(all, "zzz")).toBe(true);
    expect(loadedState(all, loaded)).toBe("all");
    expect(describeSelection(all)).toBe("All hosts matching these filters are selected");
    expect(ids(toggleOne(all, "b", loaded))).toEqual(["a", "c"]);
  });
});

describe("scan batch body", () => {
  it("names picked hosts by id", () => {
    const sel = toggleOne(toggleOne(NO_SELECTION, "a", []), "b", []);
    expect(scanBatchBody(sel, { environment: "prod" })).toEqual({ body: { host_ids: ["a", "b"], concurrency: 10 } });
    expect(scanBatchBody(NO_SELECTION, {})).toHaveProperty("error");
  });

  it("refuses more ids than one batch takes", () => {
    const many: Selection = { kind: "ids", ids: new Set(Array.from({ length: 10_001 }, (_, i) => `h${i}`)) };
    expect(scanBatchBody(many, {})).toHaveProperty("error");
  });

  it("sends the list's filters for every matching host, or all when there is none", () => {
    const all: Selection = { kind: "all" };
    expect(scanBatchBody(all, {})).toEqual({ body: { all: true, concurrency: 10 } });
    expect(scanBatchBody(all, { maintenance: false })).toEqual({ body: { all: true, concurrency: 10 } });
    expect(scanBatchBody(all, { q: "web", group_id: "g1", environment: "prod", tag: "db", maintenance: false })).toEqual({
      body: { filter: { q: "web", group_id: "g1", environment: "prod", tag: "db" }, concurrency: 10 },
    });
    // Every host in maintenance: the server would skip them all, and `all` would scan others.
    expect(scanBatchBody(all, { maintenance: true })).toHaveProperty("error");
  });
});

describe("selected hosts", () => {
  it("yields picked hosts from the loaded rows, by id when not loaded", async () => {
    const loaded: BulkHost[] = [{ id: "a", hostname: "web-a" }];
    const out: BulkHost[] = [];
    for await (const h of selectedHosts({ kind: "ids", ids: new Set(["a", "x"]) }, loaded, {})) out.push(h);
    expect(out).toEqual([{ id: "a", hostname: "web-a" }, { id: "x", hostname: "x" }]);
  });

  it("pages through every host matching the filters", async () => {
    const seen = fakeServer({
      "GET /api/v1/hosts": ({ query }) =>
        query.get("cursor") === "p2"
          ? json(200, { hosts: [{ id: "3", hostname: "h3", ip_address: "::1", port: 22, environment: "e" }], next_cursor: null })
          : json(200, {
              hosts: [1, 2].map((n) => ({ id: `${n}`, hostname: `h${n}`, ip_address: "::1", port: 22, environment: "e" })),
              next_cursor: "p2",
            }),
    });
    const out: string[] = [];
    for await (const h of selectedHosts({ kind: "all" }, [], { tag: "db" })) out.push(h.hostname);
    expect(out).toEqual(["h1", "h2", "h3"]);
    expect(seen.map((r) => Object.fromEntries(r.query))).toEqual([
      { tag: "db", limit: "200" },
      { tag: "db", limit: "200", cursor: "p2" },
    ]);
  });
});

describe("runBulk", () => {
  const hosts = Array.from({ length: 20 }, (_, i) => ({ id: `${i}`, hostname: `h${i}` }));

  it("keeps at most `concurrency` requests in flight and counts successes and failures", async () => {
    let inFlight = 0;
    let peak = 0;
    const progress: number[] = [];
    const outcome = await runBulk(
      from(hosts),
      async (h) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (Number(h.id) % 5 === 0) throw new Error(`no ${h.hostname}`);
      },
      { concurrency: 3, onProgress: (o) => progress.push(o.succeeded + o.failed.length) },
    );
    expect(peak).toBe(3);
    expect(outcome.succeeded).toBe(16);
    expect(outcome.failed.map((f) => f.message).sort()).toEqual(["no h0", "no h10", "no h15", "no h5"]);
    expect(outcome.stopped).toBeUndefined();
    expect(progress.at(-1)).toBe(20);
  });

  it("stops starting requests when cancelled", async () => {
    const controller = new AbortController();
    let started = 0;
    const outcome = await runBulk(
      from(hosts),
      async () => {
        started++;
        if (started === 4) controller.abort();
        await Promise.resolve();
      },
      { concurrency: 2, signal: controller.signal },
    );
    expect(started).toBeLessThan(6);
    expect(outcome.stopped).toBe("Cancelled.");
  });

  it("says so when the list of hosts cannot be read", async () => {
    async function* broken() {
      yield { id: "1", hostname: "h1" };
      throw new Error("The server answered HTTP 500.");
    }
    const outcome = await runBulk(broken(), async () => {}, { concurrency: 2 });
    expect(outcome.succeeded).toBe(1);
    expect(outcome.stopped).toContain("HTTP 500");
  });
});
