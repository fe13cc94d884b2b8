import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";
import { theme } from "../theme";
import { AddHostForm } from "./HostForm";

const ALL = ["host:read", "host:write", "credential:read", "credential:write"];
const NEW_HOST = {
  id: "00000000-0000-4000-8000-000000000009",
  hostname: "web-9",
  ip_address: "127.0.0.9",
  port: 22,
  environment: "default",
};

function cred(id: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    id: `c0000000-0000-4000-8000-00000000000${id}`,
    scope: "system",
    scope_id: null,
    name,
    username: "root",
    auth_method: "ssh_key",
    ssh_key_type: "ed25519",
    is_default: false,
    is_active: true,
    ...extra,
  };
}
const fleetRoot = cred("1", "fleet-root", { is_default: true });
const backup = cred("2", "backup-key", { username: "backup" });

function serve(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
    "GET /api/v1/credentials": () => json(200, { credentials: [fleetRoot, backup], next_cursor: null }),
    ...routes,
  });
}

async function fillHost(dialog: HTMLElement) {
  const user = userEvent.setup({ delay: null });
  await user.type(within(dialog).getByLabelText(/Hostname/), "web-9");
  await user.type(within(dialog).getByLabelText(/IP address/), "127.0.0.9");
  return user;
}

// Typing a form through user-event is slow on a busy machine.
describe("host form credential", { timeout: 20_000 }, () => {
  it("names the system default a new host will use", async () => {
    serve(ALL, {});
    renderApp("/hosts?add=true");
    const dialog = await screen.findByRole("dialog", { name: "Add host" });
    await waitFor(() =>
      expect(within(dialog).getByTestId("host-credential-current").textContent).toContain(
        "uses the system default, fleet-root — root, SSH key ed25519",
      ),
    );
    expect((within(dialog).getByRole("radio", { name: "The system default" }) as HTMLInputElement).checked).toBe(true);
  });

  it("copies an existing credential into the new host's scope", async () => {
    const seen = serve(ALL, {
      "POST /api/v1/hosts": () => json(201, NEW_HOST),
      [`POST /api/v1/credentials/${backup.id}:clone`]: () => json(201, cred("3", "backup-key (web-9)", { scope: "host" })),
    });
    const { router } = renderApp("/hosts?add=true");
    const dialog = await screen.findByRole("dialog", { name: "Add host" });
    const user = await fillHost(dialog);
    await user.click(within(dialog).getByRole("radio", { name: "An existing credential" }));
    // Saving without choosing one says so, without a request.
    await user.click(within(dialog).getByRole("button", { name: "Add host" }));
    expect(await within(dialog).findByText("Choose the credential to copy.")).toBeTruthy();
    expect(seen.some((r) => r.method === "POST")).toBe(false);

    // jsdom lays nothing out, so Mantine hides the dropdown: choose from the keyboard.
    await user.type(within(dialog).getByLabelText(/Existing credential/), "backup");
    await user.keyboard("{ArrowDown}{Enter}");
    expect((within(dialog).getByLabelText(/Existing credential/) as HTMLInputElement).value).toBe("backup-key — backup, SSH key ed25519");
    await user.click(within(dialog).getByRole("button", { name: "Add host" }));
    await waitFor(() => expect(router.state.location.pathname).toBe(`/hosts/${NEW_HOST.id}`));
    const clone = seen.find((r) => r.path.endsWith(":clone"));
    expect(clone?.body).toEqual({ scope: "host", scope_id: NEW_HOST.id, name: "backup-key (web-9)" });
    expect(clone?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("puts a refused key on its field and retries only the credential", async () => {
    let attempts = 0;
    const seen = serve(ALL, {
      "POST /api/v1/hosts": () => json(201, NEW_HOST),
      "POST /api/v1/credentials": () =>
        ++attempts === 1
          ? envelope(400, "validation_failed", "The private key is not a PEM-encoded private key.", { field: "private_key" })
          : json(201, cred("4", "web-9 key", { scope: "host" })),
    });
    const { router } = renderApp("/hosts?add=true");
    const dialog = await screen.findByRole("dialog", { name: "Add host" });
    const user = await fillHost(dialog);
    await user.click(within(dialog).getByRole("radio", { name: "A new key or password for this host" }));
    await user.type(within(dialog).getByLabelText(/Private key/), "not a key");
    await user.click(within(dialog).getByRole("button", { name: "Add host" }));
    // The new credential logs in as the SSH user: it is asked for first.
    expect(await within(dialog).findByText("A new credential needs the SSH user it logs in as.")).toBeTruthy();
    await user.type(within(dialog).getByLabelText(/SSH user/), "ops");
    await user.click(within(dialog).getByRole("button", { name: "Add host" }));

    expect(await within(dialog).findByText("The private key is not a PEM-encoded private key.")).toBeTruthy();
    expect(within(dialog).getByLabelText(/Private key/).getAttribute("aria-invalid")).toBe("true");
    expect(within(dialog).getByTestId("host-added-without-credential").textContent).toContain("Host web-9 was added");
    expect((within(dialog).getByLabelText(/Hostname/) as HTMLInputElement).disabled).toBe(true);

    await user.clear(within(dialog).getByLabelText(/Private key/));
    await user.type(within(dialog).getByLabelText(/Private key/), "-----BEGIN KEY-----");
    await user.click(within(dialog).getByRole("button", { name: "Save credential" }));
    await waitFor(() => expect(router.state.location.pathname).toBe(`/hosts/${NEW_HOST.id}`));
    expect(seen.filter((r) => r.method === "POST" && r.path === "/api/v1/hosts")).toHaveLength(1);
    const creds = seen.filter((r) => r.method === "POST" && r.path === "/api/v1/credentials");
    expect(creds).toHaveLength(2);
    expect(creds[1]?.body).toEqual({
      name: "web-9 key",
      scope: "host",
      scope_id: NEW_HOST.id,
      username: "ops",
      auth_method: "ssh_key",
      private_key: "-----BEGIN KEY-----",
    });
  });

  it("shows which credential an edited host resolves to, read-only without credential:write", async () => {
    serve(["host:read", "host:write", "credential:read"], {
      [`POST /api/v1/hosts/${NEW_HOST.id}/credentials:resolve`]: () =>
        json(200, { ...cred("5", "web-9 key", { scope: "host" }), resolution_source: "host", resolution_reason: "own" }),
    });
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const onDone = vi.fn();
    render(
      <MantineProvider theme={theme}>
        <QueryClientProvider client={qc}>
          <AddHostForm host={NEW_HOST} onDone={onDone} />
        </QueryClientProvider>
      </MantineProvider>,
    );
    await waitFor(() =>
      expect(screen.getByTestId("host-credential-current").textContent).toBe(
        "Uses web-9 key — root, SSH key ed25519, this host's own credential.",
      ),
    );
    expect(screen.getByText("Choosing another credential needs permission credential:write.")).toBeTruthy();
    expect(screen.queryByRole("radio")).toBeNull();
  });
});
