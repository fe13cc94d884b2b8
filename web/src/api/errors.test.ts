import { describe, expect, it } from "vitest";
import { ApiError, applyFieldError, fieldOf, toApiError } from "./errors";

function env(code: string, message: string, detail?: Record<string, unknown>) {
  return {
    error: { code, fault: "client", retryable: false, human_message: message, correlation_id: "c1", ...(detail ? { detail } : {}) },
  };
}

function fakeForm() {
  const errors: Record<string, string> = {};
  return { errors, setFieldError: (path: string, message: string) => (errors[path] = message) };
}

describe("toApiError", () => {
  it("says which permission a 403 lacks", () => {
    const err = toApiError(
      env("authz.permission_denied", "Forbidden.", { required_permission: "host:write" }),
      new Response(null, { status: 403 }),
    );
    expect(err.message).toBe("You lack permission host:write.");
    expect(err.requiredPermission).toBe("host:write");
    expect(err.status).toBe(403);
  });

  it("uses the server's sentence, or the status when there is no envelope", () => {
    expect(toApiError(env("resource.not_found", "No such host."), new Response(null, { status: 404 })).message).toBe(
      "No such host.",
    );
    expect(toApiError("<html>bad gateway</html>", new Response(null, { status: 502 })).message).toBe(
      "The server answered HTTP 502.",
    );
  });
});

describe("400 envelope onto form fields", () => {
  const fields = ["hostname", "ip_address", "port", "tags"] as const;

  it("maps dotted API paths onto the form field they start with", () => {
    expect(fieldOf("hostname", fields)).toBe("hostname");
    expect(fieldOf("tags.3", fields)).toBe("tags");
    expect(fieldOf("body", fields)).toBeUndefined();
    expect(fieldOf("address", fields, { address: "ip_address" })).toBe("ip_address");
  });

  it("puts a validation error on its field and returns nothing for the form", () => {
    const form = fakeForm();
    const err = toApiError(
      env("validation_failed", "hostname is invalid: does not match the pattern", { field: "hostname" }),
      new Response(null, { status: 400 }),
    );
    expect(applyFieldError(err, form, fields)).toBeUndefined();
    expect(form.errors).toEqual({ hostname: "hostname is invalid: does not match the pattern" });
  });

  it("puts a 409 naming a field on that field too", () => {
    const form = fakeForm();
    const err = toApiError(
      env("resource.conflict", 'A host named "web1" already exists in environment "default".', { field: "hostname" }),
      new Response(null, { status: 409 }),
    );
    expect(applyFieldError(err, form, fields)).toBeUndefined();
    expect(form.errors.hostname).toMatch(/already exists/);
  });

  it("returns the message for the form when no field fits or the error is of another kind", () => {
    const form = fakeForm();
    const bodyErr = toApiError(env("validation_failed", "The request body is not valid JSON", { field: "body" }), new Response(null, { status: 400 }));
    expect(applyFieldError(bodyErr, form, fields)).toBe("The request body is not valid JSON");
    const denied = toApiError(env("authz.permission_denied", "x", { required_permission: "host:write" }), new Response(null, { status: 403 }));
    expect(applyFieldError(denied, form, fields)).toBe("You lack permission host:write.");
    expect(applyFieldError(new ApiError(0, undefined, "offline"), form, fields)).toBe("offline");
    expect(form.errors).toEqual({});
  });
});
