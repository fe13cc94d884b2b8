import { expect, test } from "@playwright/test";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Settings → SSH CA: the user and host CAs' keys and the lines to install on hosts, as the
// API serves them, with copy buttons. Read-only: nothing is created or changed.
test("ssh ca: the settings tab shows both CAs with their ready lines", async ({ browser }, testInfo) => {
  const admin = await adminApi();
  const res = await admin.get("/api/v1/ssh-ca/user");
  expect(res.status()).toBe(200);
  const user = (await res.json()) as { keys: { key_id: string }[]; ready_lines: string };
  const keyID = user.keys[0]?.key_id ?? "";
  const firstLine = user.ready_lines.split("\n")[0] ?? "";
  expect(keyID).not.toBe("");
  const page = await adminPage(browser);
  try {
    await page.goto("/settings?tab=ssh-ca");
    await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
    await expect(page.getByRole("tab", { name: "SSH CA" })).toHaveAttribute("aria-selected", "true");
    const userCard = page.getByRole("region", { name: "User CA" });
    await expect(userCard.getByRole("cell", { name: keyID })).toBeVisible();
    await expect(page.getByTestId("ssh-ca-user-lines")).toContainText(firstLine);
    await expect(page.getByTestId("ssh-ca-host-lines")).toContainText("@cert-authority * ssh-ed25519 ");
    await expect(page.getByRole("button", { name: "Copy TrustedUserCAKeys lines" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Copy known_hosts lines" })).toBeVisible();
    // The user CA's rotation says what happens on the hosts; cancelled, nothing changes.
    await page.getByRole("button", { name: "Rotate User CA" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate the User CA" });
    await expect(dialog.getByTestId("ssh-ca-rotate-delivery")).toContainText("revokes it in the KRL");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(userCard.getByRole("cell", { name: keyID })).toBeVisible();
    await expectAccessible(page, testInfo, "settings-ssh-ca");
    await shot(page, "settings-ssh-ca");
  } finally {
    // The admin API context is shared by the whole run: not disposed here.
    await page.context().close();
  }
});
