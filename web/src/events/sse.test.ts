import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import type { Schemas } from "../api/client";
import { Invalidator } from "./invalidate";
import { EventStream, SSEParser, type ServerEvent } from "./sse";

function frame(id: number, type: string, topic: string, data: Record<string, unknown> = {}): string {
  const body = { id: String(id), topic, type, occurred_at: "2026-12-01T00:00:00Z", data };
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(body)}\n\n`;
}

// A stream response whose body yields the chunks and then ends, like a server closing
// the connection.
function streamResponse(chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const enc = new TextEncoder();
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

describe("SSEParser", () => {
  it("joins data lines, skips comments and survives chunks split anywhere", () => {
    const p = new SSEParser();
    const text = ": keep-alive\n\nid: 7\nevent: job.progress\ndata: {\"a\":\ndata: 1}\n\nevent: reset\ndata: {\"reason\":\"gone\"}\r\n\r\n";
    const out = [];
    for (const ch of text) out.push(...p.push(ch));
    expect(out).toEqual([
      { id: "7", event: "job.progress", data: '{"a":\n1}' },
      { id: "7", event: "reset", data: '{"reason":"gone"}' },
    ]);
  });
});

describe("EventStream", () => {
  it("reconnects with a fresh ticket and the last event id, and reports resets", async () => {
    const requests: Request[] = [];
    const responses = [
      streamResponse([frame(41, "host.state_changed", "liveness"), frame(42, "scan.progress", "scans")]),
      streamResponse(["event: reset\ndata: {\"reason\":\"expired\"}\n\n", frame(57, "alert.raised", "alerts")]),
    ];
    let tickets = 0;
    const events: ServerEvent[] = [];
    const resets = vi.fn();
    let stream: EventStream | undefined;
    const done = new Promise<void>((resolve) => {
      stream = new EventStream({
        createTicket: async () => `t${++tickets}`,
        fetch: async (req) => {
          requests.push(req);
          const next = responses.shift();
          if (!next) {
            resolve();
            return new Promise<Response>(() => {}); // stays open
          }
          return next;
        },
        onEvent: (ev) => events.push(ev),
        onReset: resets,
        sleep: () => Promise.resolve(),
      });
      stream.start();
    });
    await done;
    stream?.stop();

    expect(events.map((e) => `${e.id} ${e.topic} ${e.type}`)).toEqual([
      "41 liveness host.state_changed",
      "42 scans scan.progress",
      "57 alerts alert.raised",
    ]);
    expect(resets).toHaveBeenCalledTimes(1);
    const urls = requests.map((r) => new URL(r.url));
    expect(urls.map((u) => u.pathname)).toEqual(["/api/v1/events", "/api/v1/events", "/api/v1/events"]);
    expect(urls.map((u) => u.searchParams.get("ticket"))).toEqual(["t1", "t2", "t3"]);
    expect(urls.map((u) => u.searchParams.get("last_event_id"))).toEqual([null, "42", "57"]);
    expect(requests[1]?.headers.get("Last-Event-ID")).toBe("42");
    expect(stream?.lastEventId).toBe("57");
  });

  it("backs off between failed attempts and stops on 401 or 403", async () => {
    const delays: number[] = [];
    let calls = 0;
    const stopped = new Promise<void>((resolve) => {
      const s = new EventStream({
        createTicket: async () => {
          calls++;
          if (calls <= 3) throw new Error("network down");
          throw Object.assign(new Error("forbidden"), { status: 403 });
        },
        onEvent: () => {},
        onReset: () => {},
        onStatus: (st) => st === "stopped" && resolve(),
        sleep: async (ms) => {
          delays.push(ms);
        },
        minDelayMs: 100,
        maxDelayMs: 300,
      });
      s.start();
    });
    await stopped;
    expect(delays).toEqual([100, 200, 300]);
    expect(calls).toBe(4);
  });
});

describe("Invalidator", () => {
  type Scan = Schemas["Scan"];
  const scan: Scan = {
    id: "s1",
    host_id: "h1",
    status: "running",
    trigger: "manual",
    requested_by: "system",
    created_at: "2026-12-01T00:00:00Z",
    rules_total: 0,
    counts: { pass: 0, fail: 0, skipped: 0, error: 0 },
    changed: 0,
    progress: { records_done: 1, records_total: 10 },
    sessions: 0,
    privilege: "",
    platform: { family: "", version: "" },
  };

  it("invalidates the queries of an event's topic, once per burst", async () => {
    const qc = new QueryClient();
    const hostFetches = vi.fn(async () => "h");
    const rulesFetches = vi.fn(async () => "r");
    await qc.fetchQuery({ queryKey: ["hosts", "list", {}], queryFn: hostFetches });
    await qc.fetchQuery({ queryKey: ["rules", "list", {}], queryFn: rulesFetches });
    expect(qc.getQueryState(["hosts", "list", {}])?.isInvalidated).toBe(false);

    const inv = new Invalidator(qc, 10_000);
    for (let i = 0; i < 5; i++) inv.handle({ type: "host.state_changed", topic: "liveness", host_id: "h1" });
    inv.flush();
    expect(qc.getQueryState(["hosts", "list", {}])?.isInvalidated).toBe(true);
    expect(qc.getQueryState(["rules", "list", {}])?.isInvalidated).toBe(false);
    inv.dispose();
  });

  it("moves scan progress in every cached copy without reloading lists", () => {
    const qc = new QueryClient();
    qc.setQueryData(["scans", "detail", "s1"], scan);
    qc.setQueryData<InfiniteData<Schemas["ScanPage"]>>(["scans", "list", {}], {
      pages: [{ items: [scan, { ...scan, id: "s2" }], next_cursor: null }],
      pageParams: [undefined],
    });
    qc.setQueryData<Schemas["ScanPage"]>(["scans", "list", { host_id: "h1" }, "recent"], { items: [scan], next_cursor: null });
    const inv = new Invalidator(qc, 10_000);
    inv.handle({
      type: "scan.progress",
      topic: "scans",
      data: { scan_id: "s1", host_id: "h1", status: "running", records_done: 7, records_total: 10 },
    });
    expect(qc.getQueryData<Scan>(["scans", "detail", "s1"])?.progress).toEqual({ records_done: 7, records_total: 10 });
    const list = qc.getQueryData<InfiniteData<Schemas["ScanPage"]>>(["scans", "list", {}]);
    expect(list?.pages[0]?.items.map((s) => s.progress.records_done)).toEqual([7, 1]);
    const recent = qc.getQueryData<Schemas["ScanPage"]>(["scans", "list", { host_id: "h1" }, "recent"]);
    expect(recent?.items[0]?.progress.records_done).toBe(7);
    expect(qc.getQueryState(["scans", "list", {}])?.isInvalidated).toBe(false);

    inv.handle({ type: "scan.finished", topic: "scans", data: { scan_id: "s1", status: "completed", records_done: 10, records_total: 10 } });
    inv.flush();
    expect(qc.getQueryData<Scan>(["scans", "detail", "s1"])?.status).toBe("completed");
    expect(qc.getQueryState(["scans", "list", {}])?.isInvalidated).toBe(true);
    inv.dispose();
  });
});
