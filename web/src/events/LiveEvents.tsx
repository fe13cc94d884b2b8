import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { Invalidator } from "./invalidate";
import { EventStream, type ServerEvent, type StreamStatus } from "./sse";

type Listener = (ev: ServerEvent) => void;

interface LiveContextValue {
  status: StreamStatus;
  subscribe: (fn: Listener) => () => void;
}

const LiveContext = createContext<LiveContextValue>({ status: "stopped", subscribe: () => () => {} });

// LiveEvents holds the tab's single event stream while the user is signed in: every event
// invalidates the queries of its topic, scan progress is patched into the cache, and
// pages may subscribe to see events as they come (a live activity list).
export function LiveEvents({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>("stopped");
  const [listeners] = useState(() => new Set<Listener>());

  useEffect(() => {
    if (!enabled) return;
    const invalidator = new Invalidator(qc);
    const stream = new EventStream({
      createTicket: async () => (await unwrap(api.POST("/events:ticket"))).ticket,
      onEvent: (ev) => {
        invalidator.handle(ev);
        for (const fn of listeners) fn(ev);
      },
      onReset: () => invalidator.reset(),
      onStatus: setStatus,
    });
    stream.start();
    return () => {
      stream.stop();
      invalidator.dispose();
    };
  }, [enabled, qc, listeners]);

  const value = useMemo<LiveContextValue>(
    () => ({
      status,
      subscribe: (fn) => {
        listeners.add(fn);
        return () => {
          listeners.delete(fn);
        };
      },
    }),
    [status, listeners],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLiveStatus(): StreamStatus {
  return useContext(LiveContext).status;
}

// useLiveEvents calls fn for each event this tab receives while the component is mounted.
export function useLiveEvents(fn: Listener): void {
  const { subscribe } = useContext(LiveContext);
  useEffect(() => subscribe(fn), [subscribe, fn]);
}
