import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { generateKeyPairSync } from "node:crypto";
import { adminApi, adminPassword, expectAccessible, shot, signIn } from "./helpers";

// Bulk actions on the hosts table, host groups, and the credential picker of the host form.
// Everything here is made by this file, under names unique to the run, and deleted at the
// end; no global setting is changed (the shared credential made here is not the default).
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const prefix = `e2e-bulk-${run}`;
const names = [1, 2, 3].map((n) => `${prefix}-${n}`);
const groupName = `e2e-group-${run}`;
const crudName = `e2e-crud-${run}`;
const sharedCred = `e2e-shared-${run}`;
const credHosts = [`e2e-cred-${run}-a`, `e2e-cred-${run}-b`];

let page: Page;
const hostIds: string[] = [];
let sharedCredId = "";

// axe runs with the pointer off the page: a hovered table row is tinted, which costs its
// links some contrast (see the report of this change).
async function checkPage(testInfo: TestInfo, name: string, p: Page = page) {
  await p.mouse.move(0, 0);
  await expectAccessible(p, testInfo, name);
}

async function visit(path: string, heading: string | RegExp) {
  await page.goto(path);
  await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
}

test.beforeAll(async ({ browser }) => {
  const api = await adminApi();
  for (const [i, hostname] of names.entries()) {
    const res = await api.post("/api/v1/hosts", { data: { hostname, ip_address: `127.0.0.${20 + i}`, tags: [prefix] } });
    expect(res.status(), await res.text()).toBe(201);
    hostIds.push(((await res.json()) as { id: string }).id);
  }
  const cred = await api.post("/api/v1/credentials", {
    data: { name: sharedCred, scope: "system", username: "e2e-ops", auth_method: "password", password: "e2e-shared-secret-1" },
  });
  expect(cred.status(), await cred.text()).toBe(201);
  sharedCredId = ((await cred.json()) as { id: string }).id;

  page = await (await browser.newContext()).newPage();
  await page.goto("/sign-in");
  await signIn(page, "admin", adminPassword);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
});

test.afterAll(async () => {
  await page.context().close();
  // Best effort: leave the server as this file found it.
  const api = await adminApi();
  const groups = (await (await api.get("/api/v1/groups?limit=200")).json()) as { groups: { id: string; name: string }[] };
  for (const g of groups.groups.filter((x) => x.name.includes(run))) await api.delete(`/api/v1/groups/${g.id}`);
  for (const id of hostIds) await api.delete(`/api/v1/hosts/${id}`);
  if (sharedCredId) await api.delete(`/api/v1/credentials/${sharedCredId}`);
});

test("bulk: select hosts and turn their maintenance on", async ({}, testInfo) => {
  await visit(`/hosts?q=${prefix}`, "Hosts");
  const table = page.getByRole("table", { name: "Hosts" });
  for (const n of names) await expect(table.getByRole("link", { name: n, exact: true })).toBeVisible();
  await expect(page.getByTestId("bulk-bar")).toHaveCount(0);

  await table.getByRole("checkbox", { name: `Select ${names[0]}` }).check();
  await table.getByRole("checkbox", { name: `Select ${names[1]}` }).check();
  await expect(page.getByTestId("bulk-count")).toHaveText("2 hosts selected");
  const bar = page.getByRole("region", { name: "Bulk actions" });
  await expect(bar.getByRole("button", { name: "Scan" })).toBeVisible();
  await checkPage(testInfo, "hosts-bulk");
  await shot(page, "hosts-bulk");

  await bar.getByRole("button", { name: "Maintenance on" }).click();
  await expect(page.getByTestId("bulk-summary")).toContainText("Maintenance on: 2 succeeded, 0 failed");
  await expect(table.getByRole("row", { name: new RegExp(names[0] ?? "") })).toContainText("maintenance");
  await expect(table.getByRole("row", { name: new RegExp(names[1] ?? "") })).toContainText("maintenance");
  await expect(table.getByRole("row", { name: new RegExp(names[2] ?? "") })).not.toContainText("maintenance");
  await shot(page, "hosts-bulk-maintenance");

  // The maintenance filter shows exactly those two; changing the filter clears the selection.
  await page.getByRole("combobox", { name: "Maintenance", exact: true }).click();
  await page.getByRole("option", { name: "In maintenance", exact: true }).click();
  await expect(page).toHaveURL(/maintenance=true/);
  await expect(table.getByRole("link", { name: names[2], exact: true })).toHaveCount(0);
  await expect(table.getByRole("link", { name: names[0], exact: true })).toBeVisible();
  await expect(page.getByTestId("bulk-count")).toHaveCount(0);
});

test("bulk: add the hosts in maintenance to a new group, seen on the group's page", async ({}, testInfo) => {
  await visit(`/hosts?q=${prefix}&maintenance=true`, "Hosts");
  const table = page.getByRole("table", { name: "Hosts" });
  await expect(table.getByRole("link", { name: names[1], exact: true })).toBeVisible();
  await table.getByRole("checkbox", { name: "Select all loaded hosts" }).check();
  await expect(page.getByTestId("bulk-count")).toHaveText("2 hosts selected");
  await page.getByRole("region", { name: "Bulk actions" }).getByRole("button", { name: "Add to group" }).click();
  const dialog = page.getByRole("dialog", { name: "Add to a group" });
  await dialog.getByText("New group", { exact: true }).click();
  await dialog.getByLabel("New group name").fill(groupName);
  await dialog.getByRole("button", { name: "Add to group" }).click();
  await expect(page.getByTestId("bulk-summary")).toContainText(`Add to ${groupName}: 2 succeeded, 0 failed`);

  // The hosts filter lists the group by name.
  await page.getByTestId("bulk-summary").getByRole("button", { name: "Dismiss summary" }).click();
  await page.getByRole("combobox", { name: "Group", exact: true }).click();
  await page.getByRole("option", { name: groupName, exact: true }).click();
  await expect(page).toHaveURL(/group_id=[0-9a-f-]{36}/);
  await expect(table.getByRole("link", { name: names[0], exact: true })).toBeVisible();

  await visit("/groups", "Groups");
  await page.getByRole("table", { name: "Groups" }).getByRole("link", { name: groupName, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: groupName })).toBeVisible();
  await expect(page.getByTestId("group-host-count")).toHaveText("2 hosts");
  const members = page.getByRole("table", { name: "Group members" });
  await expect(members.getByRole("link", { name: names[0], exact: true })).toBeVisible();
  await expect(members.getByRole("link", { name: names[1], exact: true })).toBeVisible();
  await expect(members.getByRole("link", { name: names[2], exact: true })).toHaveCount(0);
  await checkPage(testInfo, "group-detail");
  await shot(page, "group-detail");

  // The group's hosts, in the hosts list.
  await page.getByRole("link", { name: "Show in hosts list" }).click();
  await expect(page).toHaveURL(/\/hosts\?group_id=[0-9a-f-]{36}/);
  await expect(page.getByRole("table", { name: "Hosts" }).getByRole("link", { name: names[1], exact: true })).toBeVisible();
});

test("bulk: scan the selected hosts as one batch", async () => {
  await visit(`/hosts?q=${prefix}`, "Hosts");
  const table = page.getByRole("table", { name: "Hosts" });
  await expect(table.getByRole("link", { name: names[2], exact: true })).toBeVisible();
  await table.getByRole("checkbox", { name: "Select all loaded hosts" }).check();
  await expect(page.getByTestId("bulk-count")).toHaveText("3 hosts selected");
  await page.getByRole("region", { name: "Bulk actions" }).getByRole("button", { name: "Scan" }).click();
  await expect(page).toHaveURL(/\/scan-batches\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
});

test("bulk: maintenance off; a reader sees no selection", async ({ browser }) => {
  await visit(`/hosts?q=${prefix}&maintenance=true`, "Hosts");
  const table = page.getByRole("table", { name: "Hosts" });
  await expect(table.getByRole("link", { name: names[0], exact: true })).toBeVisible();
  await table.getByRole("checkbox", { name: "Select all loaded hosts" }).check();
  await page.getByRole("region", { name: "Bulk actions" }).getByRole("button", { name: "Maintenance off" }).click();
  await expect(page.getByTestId("bulk-summary")).toContainText("Maintenance off: 2 succeeded, 0 failed");
  await expect(table.getByRole("link", { name: names[0], exact: true })).toHaveCount(0);

  const reader = `e2e-hosts-reader-${run}`;
  const created = await (await adminApi()).post("/api/v1/users", {
    data: { username: reader, email: `${reader}@example.com`, password: "reader-password-1", role: "viewer" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto("/sign-in");
  await signIn(p, reader, "reader-password-1");
  await expect(p.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await p.goto(`/hosts?q=${prefix}`);
  await expect(p.getByRole("table", { name: "Hosts" }).getByRole("link", { name: names[0], exact: true })).toBeVisible();
  await expect(p.getByRole("checkbox")).toHaveCount(0);
  await p.goto("/groups");
  await expect(p.getByRole("table", { name: "Groups" }).getByRole("link", { name: groupName, exact: true })).toBeVisible();
  await expect(p.getByRole("button", { name: "Add group" })).toHaveCount(0);
  await expect(p.getByRole("button", { name: /^Delete/ })).toHaveCount(0);
  await ctx.close();
});

test("groups: create, rename, maintenance, members, delete", async ({}, testInfo) => {
  await visit("/groups", "Groups");
  await expect(page.getByRole("table", { name: "Groups" }).getByRole("link", { name: groupName, exact: true })).toBeVisible();
  await checkPage(testInfo, "groups");
  await shot(page, "groups");

  // A taken name is the server's 409, shown on the field.
  await page.getByTestId("add-group").click();
  const add = page.getByRole("dialog", { name: "Add group" });
  await add.getByLabel("Name").fill(groupName);
  await add.getByRole("button", { name: "Create group" }).click();
  await expect(add.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(add).toContainText("already exists");
  await add.getByLabel("Name").fill(crudName);
  await add.getByLabel("Description").fill("Made by the hosts e2e spec.");
  await add.getByRole("button", { name: "Create group" }).click();
  await expect(page.getByRole("heading", { level: 1, name: crudName })).toBeVisible();
  await expect(page.getByText("Made by the hosts e2e spec.")).toBeVisible();

  await page.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${crudName}` });
  await edit.getByLabel("Name").fill(`${crudName}-renamed`);
  await edit.getByRole("button", { name: "Save group" }).click();
  await expect(page.getByRole("heading", { level: 1, name: `${crudName}-renamed` })).toBeVisible();

  // A host, found by name on the server.
  await page.getByRole("button", { name: "Add host" }).click();
  const addHost = page.getByRole("dialog", { name: `Add a host to ${crudName}-renamed` });
  await addHost.getByRole("combobox", { name: "Host", exact: true }).fill(names[2] ?? "");
  await page.getByRole("option", { name: new RegExp(names[2] ?? "") }).click();
  await addHost.getByRole("button", { name: "Add to group" }).click();
  const members = page.getByRole("table", { name: "Group members" });
  await expect(members.getByRole("link", { name: names[2], exact: true })).toBeVisible();
  await expect(page.getByTestId("group-host-count")).toHaveText("1 host");

  // Group maintenance covers its hosts.
  await page.getByRole("button", { name: "Maintenance on" }).click();
  await expect(page.getByTestId("group-maintenance")).toHaveText("in maintenance");
  await expect(members.getByRole("row", { name: new RegExp(names[2] ?? "") })).toContainText("maintenance");
  await checkPage(testInfo, "group-detail-maintenance");
  await page.getByRole("button", { name: "Maintenance off" }).click();
  await expect(page.getByTestId("group-maintenance")).toHaveText("not in maintenance");

  // Removing a member asks first.
  await members.getByRole("button", { name: `Remove ${names[2]}` }).click();
  const confirm = page.getByRole("dialog", { name: `Remove ${names[2]} from ${crudName}-renamed?` });
  await confirm.getByRole("button", { name: "Remove from group" }).click();
  await expect(members.getByRole("link", { name: names[2], exact: true })).toHaveCount(0);
  await expect(page.getByText("No host in this group yet.")).toBeVisible();

  // Deleting asks first, from the group's page and from the list.
  await page.getByRole("button", { name: "Delete group" }).click();
  await page.getByRole("dialog", { name: `Delete group ${crudName}-renamed?` }).getByRole("button", { name: "Delete group" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Groups" })).toBeVisible();
  const list = page.getByRole("table", { name: "Groups" });
  await expect(list.getByRole("link", { name: `${crudName}-renamed`, exact: true })).toHaveCount(0);

  await list.getByRole("button", { name: `Delete ${groupName}` }).click();
  const del = page.getByRole("dialog", { name: `Delete group ${groupName}?` });
  await expect(del).toContainText("Its 2 hosts stay in the inventory");
  await del.getByRole("button", { name: "Delete group" }).click();
  await expect(list.getByRole("link", { name: groupName, exact: true })).toHaveCount(0);
});

test("add host: copy an existing credential into the host's scope", async ({}, testInfo) => {
  await visit("/hosts", "Hosts");
  await page.getByTestId("add-host").click();
  const dialog = page.getByRole("dialog", { name: "Add host" });
  await dialog.getByLabel("Hostname").fill(credHosts[0] ?? "");
  await dialog.getByLabel("IP address").fill("127.0.0.30");
  await expect(dialog.getByTestId("host-credential-current")).not.toContainText("Looking up");
  await dialog.getByRole("radio", { name: "An existing credential" }).check();
  await dialog.getByRole("combobox", { name: /^Existing credential/ }).click();
  await page.getByRole("option", { name: new RegExp(sharedCred) }).click();
  await expect(dialog.getByRole("combobox", { name: /^Existing credential/ })).toHaveValue(new RegExp(sharedCred));
  await checkPage(testInfo, "host-add-credential");
  await shot(page, "host-add-credential");
  await dialog.getByRole("button", { name: "Add host" }).click();
  await expect(page.getByRole("heading", { level: 1, name: credHosts[0] })).toBeVisible();
  const hostId = new URL(page.url()).pathname.split("/").pop() ?? "";
  hostIds.push(hostId);

  // The copy is the host's own now: the Edit dialog says which credential applies.
  await page.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${credHosts[0]}` });
  await expect(edit.getByTestId("host-credential-current")).toContainText(`${sharedCred} (${credHosts[0]})`);
  await expect(edit.getByTestId("host-credential-current")).toContainText("this host's own credential");
  await checkPage(testInfo, "host-edit-credential");
  await shot(page, "host-edit-credential");
  await edit.getByRole("button", { name: "Close" }).click();
  const resolved = await (await adminApi()).post(`/api/v1/hosts/${hostId}/credentials:resolve`);
  expect(resolved.status()).toBe(200);
  expect(await resolved.json()).toMatchObject({ scope: "host", scope_id: hostId, username: "e2e-ops", resolution_source: "host" });
});

test("add host: a new key for the host; a refused key is fixed without adding the host twice", async ({}, testInfo) => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await visit("/hosts", "Hosts");
  await page.getByTestId("add-host").click();
  const dialog = page.getByRole("dialog", { name: "Add host" });
  await dialog.getByLabel("Hostname").fill(credHosts[1] ?? "");
  await dialog.getByLabel("IP address").fill("127.0.0.31");
  await dialog.getByLabel("SSH user").fill("e2e-admin");
  await dialog.getByRole("radio", { name: "A new key or password for this host" }).check();
  await dialog.getByLabel("Private key").fill("not a key");
  await dialog.getByRole("button", { name: "Add host" }).click();
  await expect(dialog.getByLabel("Private key")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.getByTestId("host-added-without-credential")).toContainText(`Host ${credHosts[1]} was added`);
  await expect(dialog.getByLabel("Hostname")).toBeDisabled();
  await checkPage(testInfo, "host-add-credential-400");
  await shot(page, "host-add-credential-400");

  await dialog.getByLabel("Private key").fill(pem);
  await dialog.getByRole("button", { name: "Save credential" }).click();
  await expect(page.getByRole("heading", { level: 1, name: credHosts[1] })).toBeVisible();
  const hostId = new URL(page.url()).pathname.split("/").pop() ?? "";
  hostIds.push(hostId);
  const api = await adminApi();
  const found = (await (await api.get(`/api/v1/hosts?q=${credHosts[1]}`)).json()) as { hosts: unknown[] };
  expect(found.hosts).toHaveLength(1);
  const resolved = await api.post(`/api/v1/hosts/${hostId}/credentials:resolve`);
  expect(await resolved.json()).toMatchObject({
    name: `${credHosts[1]} key`,
    scope: "host",
    username: "e2e-admin",
    auth_method: "ssh_key",
    ssh_key_type: "ed25519",
    resolution_source: "host",
  });
});

test("groups and the bulk bar in dark mode", async ({}, testInfo) => {
  await visit(`/hosts?q=${prefix}`, "Hosts");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await page.getByRole("table", { name: "Hosts" }).getByRole("checkbox", { name: `Select ${names[0]}` }).check();
  await expect(page.getByTestId("bulk-count")).toHaveText("1 host selected");
  await checkPage(testInfo, "hosts-bulk-dark");
  await shot(page, "hosts-bulk-dark");
  await visit("/groups", "Groups");
  await checkPage(testInfo, "groups-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
});
