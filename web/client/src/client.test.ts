// Runs against a running server: OPENWATCH_URL, and an admin's OPENWATCH_USERNAME and
// OPENWATCH_PASSWORD (the Go test web/client/client_test.go starts one and runs this).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createOpenWatchClient, idempotent, OpenWatchError, paginate, unwrap } from "./index.js";

const baseUrl = process.env.OPENWATCH_URL ?? "";
const username = process.env.OPENWATCH_USERNAME ?? "";
const password = process.env.OPENWATCH_PASSWORD ?? "";

test("the environment names a server", () => {
  assert.ok(baseUrl.startsWith("http"), "OPENWATCH_URL is set");
});

test("sign-in, typed calls, idempotent creates, pagination and typed errors", async () => {
  const ow = createOpenWatchClient({ baseUrl });

  // Before signing in the API answers 401, as an OpenWatchError.
  const anon = await ow.api.GET("/auth/me");
  assert.throws(() => unwrap(anon), (e: unknown) => e instanceof OpenWatchError && e.status === 401 && e.code === "auth.required");

  await assert.rejects(ow.login(username, "wrong-password-123"), (e: unknown) => e instanceof OpenWatchError && e.code === "auth.invalid_credentials");
  const signedIn = await ow.login(username, password);
  assert.equal(signedIn.user.username, username);
  const me = unwrap(await ow.api.GET("/auth/me"));
  assert.equal(me.username, username);

  // The same Idempotency-Key replays the first answer: one host, not two.
  const key = idempotent();
  const first = unwrap(await ow.api.POST("/hosts", { body: { hostname: "ts-1", ip_address: "127.0.0.21" }, params: { header: key } }));
  const again = unwrap(await ow.api.POST("/hosts", { body: { hostname: "ts-1", ip_address: "127.0.0.21" }, params: { header: key } }));
  assert.equal(again.id, first.id);
  for (const i of [2, 3, 4, 5]) {
    unwrap(await ow.api.POST("/hosts", { body: { hostname: `ts-${i}`, ip_address: `127.0.0.${20 + i}` }, params: { header: idempotent() } }));
  }

  // Five hosts read two at a time.
  const names: string[] = [];
  for await (const h of ow.hosts({ limit: 2 })) names.push(h.hostname);
  assert.deepEqual(names.sort(), ["ts-1", "ts-2", "ts-3", "ts-4", "ts-5"]);

  // paginate works over any list.
  let pages = 0;
  const scans = [];
  for await (const s of paginate(async (cursor) => {
    pages++;
    const page = unwrap(await ow.api.GET("/scans", { params: { query: { cursor, limit: 10 } } }));
    return { items: page.items, next: page.next_cursor };
  })) {
    scans.push(s);
  }
  assert.equal(pages, 1);
  assert.equal(scans.length, 0);

  // A 404 and a 400 carry the envelope.
  const missing = await ow.api.GET("/hosts/{id}", { params: { path: { id: "01a24fb1-0000-7000-8000-0000000000ff" } } });
  assert.throws(
    () => unwrap(missing),
    (e: unknown) => e instanceof OpenWatchError && e.status === 404 && e.code === "resource.not_found" && e.correlationId !== "",
  );
  const bad = await ow.api.GET("/hosts", { params: { query: { limit: 500 } } });
  assert.throws(() => unwrap(bad), (e: unknown) => e instanceof OpenWatchError && e.status === 400 && e.code === "validation_failed");
});
