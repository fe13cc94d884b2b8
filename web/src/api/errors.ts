import type { ErrorEnvelope } from "./client";

// ApiError is a failed API call: the HTTP status plus the API's error envelope when the
// server sent one (a proxy in between may not).
export class ApiError extends Error {
  readonly status: number;
  readonly envelope?: ErrorEnvelope["error"];

  constructor(status: number, envelope: ErrorEnvelope["error"] | undefined, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.envelope = envelope;
  }

  get code(): string | undefined {
    return this.envelope?.code;
  }

  // The permission a 403 names in detail.required_permission.
  get requiredPermission(): string | undefined {
    const p = this.envelope?.detail?.["required_permission"];
    return typeof p === "string" ? p : undefined;
  }

  // The request field a 400 (or a 409 on a unique field) names in detail.field.
  get field(): string | undefined {
    const f = this.envelope?.detail?.["field"];
    return typeof f === "string" && f !== "" ? f : undefined;
  }
}

function envelopeOf(value: unknown): ErrorEnvelope["error"] | undefined {
  if (typeof value !== "object" || value === null || !("error" in value)) return undefined;
  const inner = (value as { error: unknown }).error;
  if (typeof inner !== "object" || inner === null) return undefined;
  if (typeof (inner as { human_message?: unknown }).human_message !== "string") return undefined;
  return inner as ErrorEnvelope["error"];
}

// toApiError turns what openapi-fetch returned for a failed call into an ApiError whose
// message is one sentence for people.
export function toApiError(error: unknown, response: Response): ApiError {
  const env = envelopeOf(error);
  let message: string;
  if (env?.code === "authz.permission_denied") {
    const perm = env.detail?.["required_permission"];
    message =
      typeof perm === "string" ? `You lack permission ${perm}.` : "You lack the permission this needs.";
  } else if (env && env.human_message.trim() !== "") {
    message = env.human_message.trim();
  } else {
    message = `The server answered HTTP ${response.status}.`;
  }
  return new ApiError(response.status, env, message);
}

// unwrap returns the data of a successful openapi-fetch call and throws an ApiError
// otherwise, so TanStack Query sees failures as errors.
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, undefined, "Could not reach the OpenWatch server. Check your connection and try again.");
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  throw toApiError(error, response);
}

// errorMessage is the sentence to show for any thrown value.
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message !== "") return err.message;
  return "Something went wrong.";
}

// fieldOf maps the API's field path (dot-joined, e.g. "tags.2" or "port") onto the form
// field that shows it: the longest prefix that is a form field.
export function fieldOf(apiField: string, formFields: readonly string[], aliases: Record<string, string> = {}): string | undefined {
  const parts = apiField.split(".");
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join(".");
    const mapped = aliases[candidate] ?? candidate;
    if (formFields.includes(mapped)) return mapped;
  }
  return undefined;
}

// FormErrorTarget is the part of a Mantine form (or any form) the mapping needs.
export interface FormErrorTarget {
  setFieldError: (path: string, message: string) => void;
}

// applyFieldError puts the message of a 400 (or a 409 naming a field) on the form field it
// names. It returns the message for a form-level alert when no field fits (or the error is
// of another kind), and undefined when the field shows it.
export function applyFieldError(
  err: unknown,
  form: FormErrorTarget,
  formFields: readonly string[],
  aliases: Record<string, string> = {},
): string | undefined {
  if (err instanceof ApiError && (err.status === 400 || err.status === 409) && err.field) {
    const target = fieldOf(err.field, formFields, aliases);
    if (target) {
      form.setFieldError(target, err.message);
      return undefined;
    }
  }
  return errorMessage(err);
}
