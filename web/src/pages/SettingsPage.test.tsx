import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";
import { cleanToken } from "./LicenseInstall";
import { breakdownRows } from "./SettingsConnectivity";
import { sweepMessage } from "./SettingsDiscoverySweep";
import { validateVariables, variableChanges, variableOfError } from "./SettingsScanVariables";
import { whenDue } from "./SettingsSchedulePreview";

// jsdom has no document.fonts, which Mantine's autosizing textarea listens to.
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", { configurable: true, value: { addEventListener() {}, removeEventListener() {} } });
}

const variables = [
  { name: "ssh_max_auth_tries", description: "Most SSH auth tries.", default: "4", value: null, rules: ["ssh-max-auth-tries"] },
  { name: "login_defs_umask", description: "Umask.", default: null, value: "027", rules: ["default-umask", "x"] },
];

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/system/scan/config": () => json(200, { config: { enabled: true } }),
    "GET /api/v1/system/scan/schedule-preview": () =>
      json(200, {
        enabled: false,
        generated_at: "2026-12-01T10:00:00Z",
        due_now: 1,
        hosts_by_band: { unknown: 1, critical: 0, low: 0, partial: 0, compliant: 0 },
        not_schedulable: 2,
        items: [{ host_id: "h1", hostname: "web-1", band: "unknown", passing_fraction: null, last_scan_at: null, next_scan_at: "2026-01-01T00:00:00Z" }],
      }),
    ...routes,
  });
}

describe("settings helpers", () => {
  it("sends only changed variables, an empty value clearing", () => {
    expect(variableChanges(variables, {})).toBeUndefined();
    expect(variableChanges(variables, { ssh_max_auth_tries: "" })).toBeUndefined();
    expect(variableChanges(variables, { ssh_max_auth_tries: "3", login_defs_umask: "027" })).toEqual({ ssh_max_auth_tries: "3" });
    expect(variableChanges(variables, { login_defs_umask: "" })).toEqual({ login_defs_umask: null });
    expect(validateVariables({ a: "x".repeat(4097), b: "ok" })).toEqual({ a: "At most 4096 characters." });
  });

  it("finds the row a 400 names", () => {
    const err = (field: string) => new ApiError(400, { code: "validation_failed", fault: "client", retryable: false, human_message: "No.", correlation_id: "c", detail: { field } }, "No.");
    expect(variableOfError(err("values.login_defs_umask"), ["login_defs_umask"])).toBe("login_defs_umask");
    expect(variableOfError(err("values.other"), ["login_defs_umask"])).toBeUndefined();
    expect(variableOfError(new Error("x"), ["login_defs_umask"])).toBeUndefined();
  });

  it("reads out the breakdown, the sweep and the schedule", () => {
    const rows = breakdownRows({ online: 3, degraded: 0, critical: 0, down: 1, never_probed: 0 });
    expect(rows.map((r) => [r.key, r.count, r.share])).toEqual([
      ["online", 3, 0.75],
      ["degraded", 0, 0],
      ["critical", 0, 0],
      ["down", 1, 0.25],
      ["maintenance", 0, 0],
      ["never_probed", 0, 0],
    ]);
    expect(breakdownRows({ online: 0, degraded: 0, critical: 0, down: 0, never_probed: 0 })[0]?.share).toBeNull();
    expect(sweepMessage(1)).toBe("1 discovery queued.");
    expect(sweepMessage(12)).toBe("12 discoveries queued.");
    expect(sweepMessage(0)).toMatch(/^No discovery was queued/);
    expect(whenDue("2026-01-01T00:00:00Z", Date.parse("2026-01-02T00:00:00Z"))).toBe("due now");
    expect(whenDue("2026-01-01T02:00:00Z", Date.parse("2026-01-01T00:00:00Z"))).toMatch(/2 hours/);
    expect(cleanToken("  a.b.c\n")).toBe("a.b.c");
  });
});

describe("settings: scanning", () => {
  it("saves edited rule variables and shows a refusal on its row", async () => {
    let puts = 0;
    const seen = signedInAs(["system:read", "system:config:write", "scan:read"], {
      "GET /api/v1/system/scan/variables": () => json(200, { items: variables }),
      "PUT /api/v1/system/scan/variables": () =>
        ++puts === 1
          ? envelope(400, "validation_failed", "The value is not a number.", { field: "values.ssh_max_auth_tries" })
          : json(200, { items: [{ ...variables[0], value: "3" }, variables[1]] }),
    });
    const user = userEvent.setup();
    renderApp("/settings?tab=scanning");
    const table = await screen.findByRole("table", { name: "Rule variables" });
    const input = within(table).getByLabelText("Value of ssh_max_auth_tries");
    const save = screen.getByRole("button", { name: "Save rule variables" });
    expect(save.hasAttribute("disabled")).toBe(true);
    await user.type(input, "3");
    await user.click(save);
    await waitFor(() => expect(within(table).getByText("The value is not a number.")).toBeTruthy());
    expect(input.getAttribute("aria-invalid")).toBe("true");
    await user.click(screen.getByRole("button", { name: "Save rule variables" }));
    await waitFor(() => expect(puts).toBe(2));
    expect(seen.filter((r) => r.method === "PUT").map((r) => r.body)).toEqual([
      { values: { ssh_max_auth_tries: "3" } },
      { values: { ssh_max_auth_tries: "3" } },
    ]);
    await waitFor(() => expect((within(table).getByLabelText("Value of ssh_max_auth_tries") as HTMLInputElement).value).toBe("3"));
    // Clearing sends null: the default applies again.
    await user.click(within(table).getByRole("button", { name: "Clear login_defs_umask" }));
    await user.click(screen.getByRole("button", { name: "Save rule variables" }));
    await waitFor(() => expect(puts).toBe(3));
    expect(seen.filter((r) => r.method === "PUT")[2]?.body).toEqual({ values: { login_defs_umask: null } });
    const preview = await screen.findByRole("table", { name: "Next scheduled scans" });
    expect(within(preview).getByText("due now")).toBeTruthy();
    expect(screen.getByTestId("schedule-enabled").textContent).toBe("off");
  }, 30_000);

  it("lets a reader see but not change the variables", async () => {
    signedInAs(["system:read"], { "GET /api/v1/system/scan/variables": () => json(200, { items: variables }) });
    renderApp("/settings?tab=scanning");
    const table = await screen.findByRole("table", { name: "Rule variables" });
    expect(within(table).getByLabelText("Value of ssh_max_auth_tries").hasAttribute("disabled")).toBe(true);
    expect(screen.queryByRole("button", { name: "Save rule variables" })).toBeNull();
    expect(screen.queryByRole("table", { name: "Next scheduled scans" })).toBeNull();
  });
});

describe("settings: license", () => {
  const free = { tier: "free", status: "no_license", features: [] };
  it("verifies without installing, installs, and shows the new tier at once", async () => {
    let installed = false;
    const seen = signedInAs(["license:read", "license:manage"], {
      "GET /api/v1/license": () => json(200, installed ? { tier: "enterprise", status: "active", features: ["audit_export"] } : free),
      "POST /api/v1/admin/license:verify": () =>
        json(200, { is_valid: true, verify_result: "valid", tier: "enterprise", features: ["audit_export"], expires_at: "2027-12-01T00:00:00Z" }),
      "PUT /api/v1/admin/license": ({ body }) => {
        if ((body as { license_jwt: string }).license_jwt === "bad.token.x") {
          return envelope(400, "validation_failed", "The license is invalid (bad_signature): the signature does not match.", {
            field: "license_jwt",
            verify_result: "bad_signature",
          });
        }
        installed = true;
        return json(200, { tier: "enterprise", status: "active", features: ["audit_export"] });
      },
    });
    const user = userEvent.setup();
    renderApp("/settings?tab=license");
    const state = await screen.findByRole("table", { name: "License" });
    await waitFor(() => expect(within(state).getByText("free")).toBeTruthy());
    const field = screen.getByLabelText("License token");

    await user.type(field, "bad.token.x");
    await user.click(screen.getByRole("button", { name: "Install license" }));
    await waitFor(() => expect(screen.getByText(/bad_signature/)).toBeTruthy());
    expect(field.getAttribute("aria-invalid")).toBe("true");

    await user.clear(field);
    await user.type(field, "  good.token.y  ");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    const verdict = await screen.findByTestId("license-verdict");
    expect(verdict.textContent).toContain("Valid: the license is in force.");
    expect(within(verdict).getByText("enterprise")).toBeTruthy();
    expect(within(state).getByText("free")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Install license" }));
    await waitFor(() => expect(within(screen.getByRole("table", { name: "License" })).getByText("enterprise")).toBeTruthy());
    const bodies = seen.filter((r) => r.path.startsWith("/api/v1/admin/license")).map((r) => [r.method, r.body]);
    expect(bodies).toEqual([
      ["PUT", { license_jwt: "bad.token.x" }],
      ["POST", { license_jwt: "good.token.y" }],
      ["PUT", { license_jwt: "good.token.y" }],
    ]);
  }, 30_000);

  it("asks before replacing a license in force", async () => {
    const seen = signedInAs(["license:read", "license:manage"], {
      "GET /api/v1/license": () => json(200, { tier: "openwatch_plus", status: "active", features: [], expires_at: "2027-01-01T00:00:00Z" }),
      "PUT /api/v1/admin/license": () => json(200, { tier: "enterprise", status: "active", features: [] }),
    });
    const user = userEvent.setup();
    renderApp("/settings?tab=license");
    await screen.findByText("openwatch_plus");
    await user.type(screen.getByLabelText("License token"), "a.b.c");
    await user.click(screen.getByRole("button", { name: "Install license" }));
    const dialog = await screen.findByRole("dialog", { name: "Replace the current license?" });
    expect(seen.some((r) => r.method === "PUT")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Replace license" }));
    await waitFor(() => expect(seen.filter((r) => r.method === "PUT")).toHaveLength(1));
  });

  it("hides verify and install from readers", async () => {
    signedInAs(["license:read"], { "GET /api/v1/license": () => json(200, free) });
    renderApp("/settings?tab=license");
    await screen.findByRole("table", { name: "License" });
    expect(screen.queryByLabelText("License token")).toBeNull();
  });
});
