import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { forgetSession } from "../api/client";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";
import { credentialPatch } from "./CredentialActions";
import { findServiceAccount } from "./ServiceAccountPage";
import { userPatch } from "./UserDetailPage";

afterEach(() => forgetSession());

const ALL = [
  "account:self",
  "user:read",
  "user:write",
  "user:delete",
  "role:read",
  "role:write",
  "role:assign",
  "service_account:read",
  "service_account:write",
  "credential:read",
  "credential:write",
  "credential:delete",
];

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    ...routes,
  });
}

const bob = {
  id: "0190a0c4-0000-7000-8000-0000000000b0",
  username: "bob",
  email: "bob@example.com",
  roles: ["admin"],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  disabled_at: null,
};
const builtIn = (id: string) => ({ id, description: `${id} role`, is_built_in: true, permissions: [] });

describe("patch bodies", () => {
  it("sends only what changed, trimmed, or nothing", () => {
    expect(userPatch(bob, { username: "bob", email: "bob@example.com" })).toBeUndefined();
    expect(userPatch(bob, { username: " bob ", email: " bob@new.example.com" })).toEqual({ email: "bob@new.example.com" });
  });

  it("never sends an empty secret, nor one the authentication method does not use", () => {
    const c = {
      id: "c1",
      scope: "system" as const,
      name: "deploy",
      username: "root",
      auth_method: "ssh_key" as const,
      is_default: false,
      is_active: true,
    };
    const v = { name: "deploy", description: "", username: "root", auth_method: "ssh_key" as const, private_key: "", private_key_passphrase: "", password: "", is_default: false };
    expect(credentialPatch(c, v)).toBeUndefined();
    expect(credentialPatch(c, { ...v, password: "typed-then-switched" })).toBeUndefined();
    expect(credentialPatch(c, { ...v, auth_method: "password", password: "s3cret-pass", private_key: "left over" })).toEqual({
      auth_method: "password",
      password: "s3cret-pass",
    });
    expect(credentialPatch({ ...c, scope: "host" }, { ...v, is_default: true })).toBeUndefined();
  });
});

describe("findServiceAccount", () => {
  it("reads the account by id and passes the 404 on", async () => {
    const sa = { id: "b", name: "b", description: "", role: "viewer", status: "active", created_at: "", created_by: "", updated_at: "" };
    const seen = fakeServer({
      "GET /api/v1/service-accounts/b": () => json(200, sa),
      "GET /api/v1/service-accounts/zzz": () => json(404, { error: { code: "resource.not_found", human_message: "The service account does not exist." } }),
    });
    expect((await findServiceAccount("b")).name).toBe("b");
    expect(seen.map((r) => r.path)).toEqual(["/api/v1/service-accounts/b"]);
    await expect(findServiceAccount("zzz")).rejects.toMatchObject({ status: 404 });
  });
});

describe("user detail page", () => {
  it("saves only the changed field and shows the server's refusal to take the last admin's role", async () => {
    let current = { ...bob };
    const seen = signedInAs(ALL, {
      [`GET /api/v1/users/${bob.id}`]: () => json(200, current),
      [`PATCH /api/v1/users/${bob.id}`]: ({ body }) => {
        current = { ...current, ...(body as object), updated_at: "2026-01-02T00:00:00Z" };
        return json(200, current);
      },
      "GET /api/v1/roles": () => json(200, { roles: [builtIn("viewer"), builtIn("admin")] }),
      [`POST /api/v1/users/${bob.id}/roles:unassign`]: () =>
        envelope(409, "user.last_admin", "The last active admin keeps the admin role."),
    });
    renderApp(`/admin/users/${bob.id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "bob" })).toBeTruthy();
    const user = userEvent.setup();
    const profile = screen.getByRole("region", { name: "Profile" });
    const email = within(profile).getByRole("textbox", { name: /Email/ });
    await user.clear(email);
    await user.type(email, "bob@new.example.com");
    await user.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(seen.some((r) => r.method === "PATCH")).toBe(true));
    expect(seen.find((r) => r.method === "PATCH")?.body).toEqual({ email: "bob@new.example.com" });

    const roles = screen.getByRole("region", { name: "Roles" });
    const admin = await within(roles).findByRole("checkbox", { name: "admin" });
    expect((admin as HTMLInputElement).checked).toBe(true);
    await user.click(admin);
    expect((await within(roles).findByRole("alert")).textContent).toContain("The last active admin keeps the admin role.");
    expect((within(roles).getByRole("checkbox", { name: "admin" }) as HTMLInputElement).checked).toBe(true);
  });

  it("hides write controls from a reader", async () => {
    signedInAs(["user:read"], { [`GET /api/v1/users/${bob.id}`]: () => json(200, bob) });
    renderApp(`/admin/users/${bob.id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "bob" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Delete user" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Save profile" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Reset password" })).toBeNull();
  });
});

describe("own password change", () => {
  it("puts a wrong current password on its field without ending the session", async () => {
    const seen = signedInAs(ALL, {
      "POST /api/v1/auth/password:change": () =>
        envelope(401, "auth.invalid_credentials", "The current password is incorrect.", { field: "current_password" }),
    });
    const { router } = renderApp("/account");
    const section = await screen.findByRole("region", { name: "Password" });
    const user = userEvent.setup();
    await user.type(within(section).getByLabelText(/Current password/), "wrong-one");
    await user.type(within(section).getByLabelText(/^New password/), "new-password-1");
    await user.type(within(section).getByLabelText(/Repeat the new password/), "new-password-1");
    await user.click(within(section).getByRole("button", { name: "Change password" }));
    expect(await within(section).findByText("The current password is incorrect.")).toBeTruthy();
    expect(router.state.location.pathname).toBe("/account");
    expect(seen.some((r) => r.path === "/api/v1/auth/refresh")).toBe(false);
  });
});

describe("custom roles", () => {
  const registry = {
    categories: [{ id: "hosts", description: "Hosts" }],
    permissions: [
      { id: "host:read", category: "hosts", description: "Read hosts", dangerous: false },
      { id: "host:write", category: "hosts", description: "Change hosts", dangerous: false },
    ],
    roles: [],
  };
  const helpdesk = { id: "helpdesk", description: "Help", is_built_in: false, permissions: ["host:read"] };

  it("edits the permissions with the picker and shows why a delete was refused", async () => {
    const seen = signedInAs(ALL, {
      "GET /api/v1/users": () => json(200, { users: [], next_cursor: null }),
      "GET /api/v1/roles": () => json(200, { roles: [builtIn("admin"), helpdesk] }),
      "GET /api/v1/auth/permissions:registry": () => json(200, registry),
      "PATCH /api/v1/roles/helpdesk": ({ body }) => json(200, { ...helpdesk, ...(body as object) }),
      "DELETE /api/v1/roles/helpdesk": () =>
        envelope(409, "resource.conflict", 'The role "helpdesk" is held by 2 users and no service account; take it from them first.', {
          users: 2,
          service_accounts: 0,
        }),
    });
    renderApp("/admin?tab=roles");
    const section = await screen.findByRole("region", { name: "Role helpdesk" });
    expect(within(screen.getByRole("region", { name: "Role admin" })).queryByRole("button")).toBeNull();
    const user = userEvent.setup();
    await waitFor(() => expect((within(section).getByRole("button", { name: "Edit role helpdesk" }) as HTMLButtonElement).disabled).toBe(false));
    await user.click(within(section).getByRole("button", { name: "Edit role helpdesk" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit role helpdesk" });
    expect((within(dialog).getByRole("checkbox", { name: /host:read/ }) as HTMLInputElement).checked).toBe(true);
    await user.click(within(dialog).getByRole("checkbox", { name: /host:write/ }));
    await user.click(within(dialog).getByRole("button", { name: "Save role" }));
    await waitFor(() => expect(seen.some((r) => r.method === "PATCH")).toBe(true));
    expect(seen.find((r) => r.method === "PATCH")?.body).toEqual({ description: "Help", permissions: ["host:read", "host:write"] });

    await user.click(within(section).getByRole("button", { name: "Delete role helpdesk" }));
    const confirm = await screen.findByRole("dialog", { name: "Delete role helpdesk?" });
    await user.click(within(confirm).getByRole("button", { name: "Delete role" }));
    expect((await within(confirm).findByRole("alert")).textContent).toContain("held by 2 users");
  });
});
