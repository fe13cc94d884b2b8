// A reader of the API's Server-Sent Events stream (GET /events). It uses fetch rather than
// EventSource because EventSource delivers named events only to listeners registered per
// name (the server names each event by its type, an open set) and cannot resume with a new
// ticket: every connection needs a fresh single-use ticket, so reconnecting is ours anyway.

export const TOPICS = ["liveness", "discovery", "intelligence", "jobs", "alerts", "scans", "notifications"] as const;
export type Topic = (typeof TOPICS)[number];

// ServerEvent is the JSON object of one event's data line.
export interface ServerEvent {
  id?: string;
  topic?: Topic;
  type: string;
  host_id?: string;
  occurred_at?: string;
  correlation_id?: string;
  data?: Record<string, unknown>;
}

// RawEvent is one dispatched SSE event before its data is decoded.
export interface RawEvent {
  id?: string;
  event: string;
  data: string;
}

// SSEParser turns chunks of an event stream into events, following the SSE rules: fields
// `id`, `event` and `data` (several data lines join with "\n"), comments start with ":",
// and a blank line dispatches. Chunks may split lines anywhere.
export class SSEParser {
  private buffer = "";
  private id: string | undefined;
  private event = "";
  private data: string[] = [];

  push(chunk: string): RawEvent[] {
    this.buffer += chunk;
    const out: RawEvent[] = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\n|\r/);
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl);
      const width = this.buffer.startsWith("\r\n", nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + width);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): RawEvent | undefined {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return undefined;
      }
      const ev: RawEvent = { id: this.id, event: this.event || "message", data: this.data.join("\n") };
      this.event = "";
      this.data = [];
      return ev;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
    }
    return undefined;
  }
}

export type StreamStatus = "connecting" | "open" | "retrying" | "stopped";

export interface EventStreamOptions {
  // createTicket returns a single-use ticket (POST /events:ticket). It throws a value with
  // a numeric `status` when the server refuses; 401 and 403 stop the stream.
  createTicket: () => Promise<string>;
  onEvent: (ev: ServerEvent) => void;
  // onReset runs when the server no longer holds the events after our last id: cached
  // state may have missed changes and should be reloaded.
  onReset: () => void;
  onStatus?: (status: StreamStatus) => void;
  fetch?: (req: Request) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
  // Backoff after a failed or ended connection: starts here, doubles, capped at maxDelayMs.
  minDelayMs?: number;
  maxDelayMs?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function statusOf(err: unknown): number | undefined {
  if (typeof err === "object" && err !== null && "status" in err) {
    const s = (err as { status: unknown }).status;
    if (typeof s === "number") return s;
  }
  return undefined;
}

// EventStream keeps one connection to GET /events open, reconnecting with a new ticket and
// the id of the last event received, so no event is missed across a reconnect.
export class EventStream {
  lastEventId: string | undefined;
  private running = false;
  private abort: AbortController | undefined;
  private readonly opts: Required<Omit<EventStreamOptions, "onStatus">> & Pick<EventStreamOptions, "onStatus">;

  constructor(opts: EventStreamOptions) {
    this.opts = {
      fetch: (req) => fetch(req),
      sleep: defaultSleep,
      minDelayMs: 1000,
      maxDelayMs: 30_000,
      ...opts,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    this.opts.onStatus?.("stopped");
  }

  get active(): boolean {
    return this.running;
  }

  private async loop(): Promise<void> {
    let delay = this.opts.minDelayMs;
    while (this.running) {
      this.opts.onStatus?.("connecting");
      let opened = false;
      try {
        opened = await this.connectOnce();
      } catch (err) {
        const status = statusOf(err);
        if (status === 401 || status === 403) {
          // No session, or no activity:read: retrying cannot help.
          this.running = false;
          this.opts.onStatus?.("stopped");
          return;
        }
      }
      if (!this.running) return;
      if (opened) delay = this.opts.minDelayMs;
      this.opts.onStatus?.("retrying");
      await this.opts.sleep(delay);
      delay = Math.min(delay * 2, this.opts.maxDelayMs);
    }
  }

  // connectOnce opens one stream and reads it until it ends. It returns whether the stream
  // opened, so a stream that worked for a while reconnects quickly.
  private async connectOnce(): Promise<boolean> {
    const ticket = await this.opts.createTicket();
    const url = new URL("/api/v1/events", window.location.href);
    url.searchParams.set("ticket", ticket);
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (this.lastEventId) {
      // Both: the header is the standard way, the query parameter survives proxies that
      // drop unknown headers.
      url.searchParams.set("last_event_id", this.lastEventId);
      headers["Last-Event-ID"] = this.lastEventId;
    }
    this.abort = new AbortController();
    const res = await this.opts.fetch(
      new Request(url, { headers, credentials: "same-origin", signal: this.abort.signal }),
    );
    if (!res.ok || !res.body) {
      throw Object.assign(new Error(`event stream answered ${res.status}`), { status: res.status });
    }
    this.opts.onStatus?.("open");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SSEParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const raw of parser.push(value)) this.dispatch(raw);
      }
    } catch {
      // A dropped connection or stop(): the loop decides whether to reconnect.
    }
    return true;
  }

  private dispatch(raw: RawEvent): void {
    if (raw.event === "reset") {
      this.opts.onReset();
      return;
    }
    if (raw.id) this.lastEventId = raw.id;
    let ev: ServerEvent;
    try {
      ev = JSON.parse(raw.data) as ServerEvent;
    } catch {
      return;
    }
    if (typeof ev.type !== "string") ev.type = raw.event;
    this.opts.onEvent(ev);
  }
}
