import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const provider = {
  id: "0190a0c4-0000-7000-8000-00000000beef",
  name: "Corp IdP",
  issuer: "https://idp.example.com",
  client_id: "openwatch",
  client_secret_set: true,
  client_secret: "********",
  scopes: ["openid", "profile", "email"],
  groups_claim: "groups",
  role_mappings: [{ group: "ops", role: "security_admin" }],
  default_role: null,
  enabled: true,
  sso_only: false,
  callback_path: "/api/v1/auth/sso/0190a0c4-0000-7000-8000-00000000beef/callback",
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

describe("settings: single sign-on", () => {
  it("lists providers with the secret masked, and an edit that leaves the secret empty keeps it", async () => {
    const puts: unknown[] = [];
    fakeServer({
      "GET /api/v1/auth/me": () => json(200, alice),
      "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(["admin:sso_provider", "role:read"])),
      "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
      "GET /api/v1/sso/providers": () => json(200, { providers: [provider] }),
      "GET /api/v1/roles": () =>
        json(200, { roles: ["viewer", "security_admin"].map((id) => ({ id, description: id, is_built_in: true, permissions: [] })) }),
      "PUT /api/v1/sso/providers/0190a0c4-0000-7000-8000-00000000beef": ({ body }) => {
        puts.push(body);
        return json(200, { ...provider, name: "Corp" });
      },
    });
    renderApp("/settings?tab=sso");
    const table = await screen.findByRole("table", { name: "Single sign-on providers" });
    const row = within(table).getByText("Corp IdP").closest("tr") as HTMLElement;
    expect(within(row).getByLabelText("secret set, hidden").textContent).toBe("••••••••");
    expect(within(row).getByText(/ops → security_admin; others refused/)).toBeTruthy();

    const user = userEvent.setup();
    await user.click(within(row).getByRole("button", { name: "Edit Corp IdP" }));
    const form = await screen.findByRole("region", { name: "Edit Corp IdP" });
    expect((within(form).getByLabelText("Client secret") as HTMLInputElement).value).toBe("");
    const name = within(form).getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Corp");
    await user.click(within(form).getByRole("button", { name: "Save provider" }));
    await waitFor(() => expect(puts).toHaveLength(1));
    expect(puts[0]).toEqual({
      name: "Corp",
      issuer: "https://idp.example.com",
      client_id: "openwatch",
      scopes: ["openid", "profile", "email"],
      groups_claim: "groups",
      role_mappings: [{ group: "ops", role: "security_admin" }],
      default_role: null,
      enabled: true,
      sso_only: false,
    });
  });
});
