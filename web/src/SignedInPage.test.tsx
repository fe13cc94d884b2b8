import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SignedInPage } from "./SignedInPage";
import { alice } from "./test/fakeServer";

describe("SignedInPage", () => {
  it("shows every field of the caller", () => {
    render(<SignedInPage me={alice} />);

    expect(screen.getByRole("heading", { level: 1, name: "OpenWatch" })).toBeTruthy();
    expect(screen.getByTestId("me-username").textContent).toBe("alice");
    expect(screen.getByTestId("me-email").textContent).toBe("alice@example.com");
    expect(screen.getByTestId("me-role").textContent).toBe("security_admin");
    expect(screen.getByTestId("me-id").textContent).toBe(alice.id);
    expect(screen.getByRole("link", { name: "API reference" }).getAttribute("href")).toBe("/api/docs");
    expect(screen.queryByRole("status")).toBeNull();
    // There is no logout endpoint yet, so there must be no sign-out control either.
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("tells the user when an authenticator must be enrolled", () => {
    render(<SignedInPage me={alice} mfaEnrollmentRequired />);

    expect(screen.getByRole("status").textContent).toMatch(/authenticator/);
  });

  it("renders user-controlled text as text, not markup", () => {
    render(<SignedInPage me={{ ...alice, username: "<img src=x onerror=alert(1)>" }} />);

    expect(screen.getByTestId("me-username").textContent).toBe("<img src=x onerror=alert(1)>");
    expect(document.querySelector("img")).toBeNull();
  });
});
