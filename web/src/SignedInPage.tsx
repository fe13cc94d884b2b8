import type { Me } from "./api/client";

export interface SignedInPageProps {
  me: Me;
  mfaEnrollmentRequired?: boolean;
}

export function SignedInPage({ me, mfaEnrollmentRequired = false }: SignedInPageProps) {
  return (
    <div className="shell">
      <header className="topbar">
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" />
          OpenWatch
        </h1>
        <span className="muted">
          Signed in as <strong>{me.username}</strong>
        </span>
      </header>

      <main className="content">
        {mfaEnrollmentRequired && (
          <div role="status" className="notice">
            Your administrator requires a one-time-code authenticator for your account. Enrolment will be available here
            soon.
          </div>
        )}

        <section className="card" aria-labelledby="account-heading">
          <h2 id="account-heading">Your account</h2>
          <dl className="facts">
            <dt>Username</dt>
            <dd data-testid="me-username">{me.username}</dd>
            <dt>Email</dt>
            <dd data-testid="me-email">{me.email}</dd>
            <dt>Role</dt>
            <dd data-testid="me-role">
              <span className="badge">{me.role}</span>
            </dd>
            <dt>User ID</dt>
            <dd data-testid="me-id">
              <code>{me.id}</code>
            </dd>
          </dl>
        </section>
      </main>

      <footer className="footer">
        <a href="/api/docs">API reference</a>
      </footer>
    </div>
  );
}
