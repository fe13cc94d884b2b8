import { useId, useState, type FormEvent } from "react";
import { api, fetchMe, humanMessage, type LoginRequest, type Me } from "./api/client";

export interface SignInPageProps {
  onSignedIn: (me: Me, mfaEnrollmentRequired: boolean) => void;
  // A message to show before the first attempt, e.g. when /auth/me failed on load.
  notice?: string;
}

const OTP_PATTERN = /^[0-9]{6}$/;

export function SignInPage({ onSignedIn, notice }: SignInPageProps) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);
  const otpHintId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;

    const user = username.trim();
    const code = otp.replace(/\s+/g, "");
    if (user === "" || password === "") {
      setError("Enter your username and password.");
      return;
    }
    if (code !== "" && !OTP_PATTERN.test(code)) {
      setError("The one-time code is 6 digits.");
      return;
    }

    const body: LoginRequest = { username: user, password };
    if (code !== "") body.otp = code;

    setBusy(true);
    setError(undefined);
    try {
      const { data, error: failure, response } = await api.POST("/auth/login", { body });
      if (!data) {
        setError(humanMessage(failure, response, "Sign-in failed"));
        setOtp("");
        return;
      }
      // The login response set the HttpOnly session cookie. Confirm it works the way every
      // later page load will: by asking the server who we are.
      const me = await fetchMe();
      switch (me.kind) {
        case "signed-in":
          onSignedIn(me.me, data.mfa_enrollment_required === true);
          return;
        case "signed-out":
          setError(
            "You were signed in, but the browser did not keep the session cookie. Open OpenWatch over HTTPS and allow cookies for this site.",
          );
          return;
        case "failed":
          setError(me.message);
          return;
      }
    } catch {
      setError("Could not reach the OpenWatch server. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <div className="auth-card">
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" />
          OpenWatch
        </h1>
        <p className="muted">Sign in to the fleet compliance console.</p>

        {error !== undefined && (
          <div role="alert" className="alert">
            {error}
          </div>
        )}

        <form onSubmit={submit} noValidate aria-busy={busy}>
          <div className="field">
            <label htmlFor="signin-username">Username</label>
            <input
              id="signin-username"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              maxLength={256}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="signin-password">Password</label>
            <input
              id="signin-password"
              name="password"
              type="password"
              autoComplete="current-password"
              maxLength={256}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="signin-otp">One-time code</label>
            <input
              id="signin-otp"
              name="otp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              aria-describedby={otpHintId}
              value={otp}
              onChange={(e) => setOtp(e.target.value)}
            />
            <p id={otpHintId} className="hint">
              Only if your account uses an authenticator app.
            </p>
          </div>
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
        </form>
      </div>
    </main>
  );
}
