import type { Schemas } from "../api/client";

type AuthMethod = Schemas["CredentialCreateRequest"]["auth_method"];

// usesKey reports whether an auth method logs in with a stored private key.
export function usesKey(m: AuthMethod): boolean {
  return m === "ssh_key" || m === "both";
}

// usesPassword reports whether an auth method stores a password.
export function usesPassword(m: AuthMethod): boolean {
  return m === "password" || m === "both";
}
