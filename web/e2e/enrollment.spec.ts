import { generateKeyPairSync } from "node:crypto";
import { expect, request, test } from "@playwright/test";
import { adminApi, adminPage, baseURL, expectAccessible, shot } from "./helpers";

// sshString is an SSH wire-format string: a 4-byte big-endian length, then the bytes.
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

// ed25519HostKey returns a fresh Ed25519 public key in authorized_keys format, as a host's
// /etc/ssh/ssh_host_ed25519_key.pub holds it.
function ed25519HostKey(): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString("base64")}`;
}

// Settings → Enrollment: a token is created in the UI (its command shown once), a host
// asks to be enrolled through the API as the enrollment script does, the request is
// approved in the queue, and the host is in the inventory.
test("enrollment: create a token, approve a host's request, find the host in the inventory", async ({ browser }, testInfo) => {
  const admin = await adminApi();
  const hostname = `e2e-enrolled-${Date.now()}`;
  const page = await adminPage(browser);
  const anon = await request.newContext({ baseURL, ignoreHTTPSErrors: true });
  try {
    await page.goto("/settings?tab=enrollment");
    await expect(page.getByRole("tab", { name: "Enrollment" })).toHaveAttribute("aria-selected", "true");
    await page.getByRole("button", { name: "New enrollment token" }).click();
    const dialog = page.getByRole("dialog", { name: "New enrollment token" });
    await dialog.getByLabel("Token name").fill(`e2e ${hostname}`);
    await dialog.getByLabel("Environment").fill("e2e-enrolled");
    await dialog.getByRole("button", { name: "Create token" }).click();
    await expect(dialog.getByRole("status")).toContainText("shown this once");
    const command = (await dialog.getByTestId("enroll-command").textContent()) ?? "";
    expect(command).toMatch(/^curl -fsS .*\/api\/v1\/enroll\.sh\?token=owe_[A-Za-z0-9_-]+' \| sudo sh$/);
    const secret = ((await dialog.getByTestId("enroll-secret").textContent()) ?? "").trim();
    await shot(page, "settings-enrollment-token");
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("table", { name: "Enrollment tokens" }).getByRole("cell", { name: `e2e ${hostname}`, exact: true })).toBeVisible();

    // The host's side: the script and its request, anonymous with the token.
    const script = await anon.get(`/api/v1/enroll.sh?token=${encodeURIComponent(secret)}`);
    expect(script.status(), await script.text()).toBe(200);
    expect(await script.text()).toContain(`ENROLL_TOKEN='${secret}'`);
    const sent = await anon.post("/api/v1/enroll", {
      data: { token: secret, host_key: ed25519HostKey(), facts: { hostname, os_id: "debian", os_pretty_name: "Debian GNU/Linux 12 (bookworm)" } },
    });
    expect(sent.status(), await sent.text()).toBe(201);
    const { poll_secret: poll } = (await sent.json()) as { poll_secret: string };

    // Approve it in the queue.
    await page.reload();
    const queue = page.getByRole("table", { name: "Enrollment requests" });
    const row = queue.getByRole("row").filter({ hasText: hostname });
    await expect(row).toContainText("pending");
    await expect(row).toContainText("Debian GNU/Linux 12");
    await expectAccessible(page, testInfo, "settings-enrollment");
    await shot(page, "settings-enrollment-queue");
    await row.getByRole("button", { name: `Approve ${hostname}` }).click();
    await expect(page.getByText(`Approved ${hostname}`)).toBeVisible();
    const status = await anon.get(`/api/v1/enroll/status/${poll}`);
    expect(((await status.json()) as { status: string }).status).toBe("approved");

    // The host is in the inventory.
    await page.goto(`/hosts?q=${hostname}`);
    await expect(page.getByRole("table", { name: "Hosts" }).getByRole("link", { name: hostname })).toBeVisible();
    const hosts = await admin.get(`/api/v1/hosts?q=${hostname}`);
    expect(await hosts.text()).toContain('"environment":"e2e-enrolled"');
  } finally {
    await anon.dispose();
    await page.context().close();
  }
});
