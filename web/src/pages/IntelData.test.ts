import { describe, expect, it } from "vitest";
import { categoryRows, eventDetail, eventLabel, filterRows, isEventCode } from "./IntelData";

describe("categoryRows", () => {
  it("turns a category keyed by name into sorted rows", () => {
    const rows = categoryRows("packages", {
      zlib1g: { version: "1:1.3", arch: "amd64" },
      "openssh-server": { version: "1:9.6p1", arch: "amd64" },
    });
    expect(rows.map((r) => r.key)).toEqual(["openssh-server", "zlib1g"]);
    expect(rows[0]?.cells).toEqual({ name: "openssh-server", version: "1:9.6p1", arch: "amd64" });
  });

  it("sorts ports by number and says when a user's lock state is unknown", () => {
    const ports = categoryRows("ports", {
      "tcp/0.0.0.0:443": { proto: "tcp", address: "0.0.0.0", port: 443 },
      "tcp/0.0.0.0:22": { proto: "tcp", address: "0.0.0.0", port: 22, process: "sshd" },
    });
    expect(ports.map((r) => r.cells["port"])).toEqual(["22", "443"]);
    expect(ports[0]?.cells["process"]).toBe("sshd");
    const users = categoryRows("users", { root: { uid: 0, gid: 0, home: "/root", shell: "/bin/bash", locked: null }, bob: { uid: 1000, gid: 1000, home: "/home/bob", shell: "/bin/sh", locked: true } });
    expect(users.map((u) => [u.key, u.cells["locked"]])).toEqual([["bob", "yes"], ["root", "unknown"]]);
  });

  it("gives no rows for a value of another shape", () => {
    expect(categoryRows("packages", undefined)).toEqual([]);
    expect(categoryRows("packages", ["a", "b"])).toEqual([]);
    expect(categoryRows("services", "oops")).toEqual([]);
  });
});

describe("filterRows", () => {
  const rows = categoryRows("services", {
    "ssh.service": { active: "active", sub: "running", enabled: "enabled" },
    "cron.service": { active: "failed", sub: "failed", enabled: "enabled" },
    "nginx.service": { active: "inactive", sub: "dead", enabled: "disabled" },
  });
  it("keeps rows holding every word, in any column, ignoring case", () => {
    expect(filterRows(rows, "").length).toBe(3);
    expect(filterRows(rows, "FAILED").map((r) => r.key)).toEqual(["cron.service"]);
    expect(filterRows(rows, "enabled  active").map((r) => r.key)).toEqual(["ssh.service"]);
    expect(filterRows(rows, "postgres")).toEqual([]);
  });
  it("stays fast with thousands of rows", () => {
    const many = categoryRows(
      "packages",
      Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`pkg-${i}`, { version: `1.${i}`, arch: "amd64" }])),
    );
    const t = performance.now();
    expect(filterRows(many, "pkg-1999").length).toBe(11);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

describe("events", () => {
  it("labels codes and reads the codes of the spec", () => {
    expect(eventLabel("package_installed")).toBe("Package installed");
    expect(isEventCode("port_opened")).toBe(true);
    expect(isEventCode("made_up")).toBe(false);
    expect(isEventCode(undefined)).toBe(false);
  });
  it("says what an event's detail holds, most telling field first", () => {
    expect(eventDetail({ package: "curl", from_version: "7.1", to_version: "7.2" })).toBe("curl · 7.1 → 7.2");
    expect(eventDetail({ proto: "tcp", address: "0.0.0.0", port: 8080, process: "nginx" })).toBe("tcp 0.0.0.0:8080 · process nginx");
    expect(eventDetail({ user: "bob", uid: 1001, shell: "/bin/sh" })).toBe("bob · uid 1001 · shell /bin/sh");
    expect(eventDetail(undefined)).toBe("");
  });
});
