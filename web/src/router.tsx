import type { QueryClient } from "@tanstack/react-query";
import {
  type RouterHistory,
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
} from "@tanstack/react-router";
import { isSignedOut, meQuery } from "./auth/session";
import { RootLayout } from "./layout/RootLayout";
import { AppLayout } from "./layout/AppLayout";
import { RouteError, RouteNotFound } from "./layout/RouteError";
import { ALERT_SEVERITIES, ALERT_STATES } from "./pages/AlertModel";
import { CHANGE_STATUSES } from "./pages/ChangeModel";
import { BATCH_STATUSES, bool, EXCEPTION_KINDS, EXCEPTION_SCOPES, EXCEPTION_STATUSES, oneOf, partial, RESULT_STATUSES, RULE_CATEGORIES, safeRedirect, SCAN_STATUSES, SEVERITIES, str, VULN_SEVERITIES } from "./lib/search";

export interface RouterContext {
  queryClient: QueryClient;
}

// Code-based routes: typed without a generator that CI would have to re-run. Each page is
// its own chunk (lazyRouteComponent), so the first load carries only the shell.
const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: RootLayout,
  notFoundComponent: RouteNotFound,
});

export const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: (s: Record<string, unknown>) => partial({ redirect: safeRedirect(s.redirect), sso_error: str(s.sso_error) }),
  component: lazyRouteComponent(() => import("./pages/SignInPage"), "SignInPage"),
});

// Where a single sign-on ends: the page exchanges the handoff code for a session.
export const ssoCallbackRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sso/callback",
  validateSearch: (s: Record<string, unknown>) => partial({ handoff: str(s.handoff) }),
  component: lazyRouteComponent(() => import("./pages/SSOCallbackPage"), "SSOCallbackPage"),
});

// The signed-in part of the app. Without a session every page sends the user to sign in,
// remembering where they were going.
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  component: AppLayout,
  errorComponent: RouteError,
  beforeLoad: async ({ context, location }) => {
    try {
      await context.queryClient.ensureQueryData(meQuery);
    } catch (err) {
      if (isSignedOut(err)) {
        throw redirect({ to: "/sign-in", search: { redirect: safeRedirect(location.href) } });
      }
      throw err;
    }
  },
});

const dashboardRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  validateSearch: (s: Record<string, unknown>) => partial({ framework: str(s.framework) }),
  component: lazyRouteComponent(() => import("./pages/DashboardPage"), "DashboardPage"),
});

export const hostsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/hosts",
  validateSearch: (s: Record<string, unknown>) => partial({
    q: str(s.q),
    group_id: str(s.group_id),
    environment: str(s.environment),
    tag: str(s.tag),
    maintenance: bool(s.maintenance),
    add: bool(s.add),
  }),
  component: lazyRouteComponent(() => import("./pages/HostsPage"), "HostsPage"),
});

export const hostRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/hosts/$hostId",
  validateSearch: (s: Record<string, unknown>) => partial({
    tab: oneOf(s.tab, ["overview", "compliance", "scans", "intelligence", "vulnerabilities", "keys", "certificates", "maintenance", "activity"] as const),
    framework: str(s.framework),
    status: oneOf(s.status, RESULT_STATUSES),
    severity: oneOf(s.severity, SEVERITIES),
    evidence: str(s.evidence),
    scan: str(s.scan),
    as_of: str(s.as_of),
    interval: oneOf(s.interval, ["hour", "day", "week"] as const),
    category: oneOf(s.category, ["packages", "services", "users", "ports"] as const),
  }),
  component: lazyRouteComponent(() => import("./pages/HostDetailPage"), "HostDetailPage"),
});

export const scansRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/scans",
  validateSearch: (s: Record<string, unknown>) => partial({
    status: oneOf(s.status, SCAN_STATUSES),
    host_id: str(s.host_id),
  }),
  component: lazyRouteComponent(() => import("./pages/ScansPage"), "ScansPage"),
});

export const scanRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/scans/$scanId",
  validateSearch: (s: Record<string, unknown>) => partial({
    status: oneOf(s.status, RESULT_STATUSES),
    severity: oneOf(s.severity, SEVERITIES),
    framework: str(s.framework),
    evidence: str(s.evidence),
  }),
  component: lazyRouteComponent(() => import("./pages/ScanDetailPage"), "ScanDetailPage"),
});

export const rulesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/rules",
  validateSearch: (s: Record<string, unknown>) => partial({
    q: str(s.q),
    framework: str(s.framework),
    severity: oneOf(s.severity, SEVERITIES),
    category: oneOf(s.category, RULE_CATEGORIES),
    platform: str(s.platform),
  }),
  component: lazyRouteComponent(() => import("./pages/RulesPage"), "RulesPage"),
});

export const ruleRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/rules/$ruleId",
  component: lazyRouteComponent(() => import("./pages/RuleDetailPage"), "RuleDetailPage"),
});

export const activityRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/activity",
  validateSearch: (s: Record<string, unknown>) => partial({
    source: oneOf(s.source, ["alert", "intelligence", "audit", "monitoring"] as const),
    severity: oneOf(s.severity, ["info", "low", "medium", "high", "critical"] as const),
    host_id: str(s.host_id),
  }),
  component: lazyRouteComponent(() => import("./pages/ActivityPage"), "ActivityPage"),
});

export const auditRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/audit",
  validateSearch: (s: Record<string, unknown>) => partial({
    action: str(s.action),
    actor_type: oneOf(s.actor_type, ["user", "service_account", "system", "anonymous"] as const),
    resource_type: str(s.resource_type),
    correlation_id: str(s.correlation_id),
  }),
  component: lazyRouteComponent(() => import("./pages/AuditPage"), "AuditPage"),
});

export const adminRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/admin",
  validateSearch: (s: Record<string, unknown>) =>
    partial({ tab: oneOf(s.tab, ["users", "roles", "service-accounts", "credentials"] as const), add: bool(s.add) }),
  component: lazyRouteComponent(() => import("./pages/AdminPage"), "AdminPage"),
});

export const discoveryRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/discovery",
  validateSearch: (s: Record<string, unknown>) => partial({ scan: str(s.scan) }),
  component: lazyRouteComponent(() => import("./pages/DiscoveryPage"), "DiscoveryPage"),
});

export const settingsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/settings",
  validateSearch: (s: Record<string, unknown>) =>
    partial({
      tab: oneOf(s.tab, ["connectivity", "intelligence", "discovery", "scanning", "alerts", "ssh", "security", "changes", "ssh-ca", "sso", "enrollment", "license", "support"] as const),
    }),
  component: lazyRouteComponent(() => import("./pages/SettingsPage"), "SettingsPage"),
});

// The installation's readiness, build, database, workers, queue and metrics listener.
export const systemStatusRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/system",
  component: lazyRouteComponent(() => import("./pages/SystemStatusPage"), "SystemStatusPage"),
});

export const accountRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/account",
  component: lazyRouteComponent(() => import("./pages/AccountPage"), "AccountPage"),
});

// Host groups: membership and maintenance for many hosts at once.
export const groupsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/groups",
  validateSearch: (s: Record<string, unknown>) => partial({ add: bool(s.add) }),
  component: lazyRouteComponent(() => import("./pages/GroupsPage"), "GroupsPage"),
});

export const groupRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/groups/$groupId",
  component: lazyRouteComponent(() => import("./pages/GroupDetailPage"), "GroupDetailPage"),
});

// The fleet's intelligence events (package, service, user and port changes).
export const intelligenceRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/intelligence",
  validateSearch: (s: Record<string, unknown>) =>
    partial({ host_id: str(s.host_id), event_type: str(s.event_type), severity: str(s.severity) }),
  component: lazyRouteComponent(() => import("./pages/IntelligencePage"), "IntelligencePage"),
});

export const scanBatchesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/scan-batches",
  validateSearch: (s: Record<string, unknown>) =>
    partial({ start: bool(s.start), status: oneOf(s.status, BATCH_STATUSES) }),
  component: lazyRouteComponent(() => import("./pages/ScanBatchesPage"), "ScanBatchesPage"),
});

export const scanBatchRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/scan-batches/$batchId",
  component: lazyRouteComponent(() => import("./pages/ScanBatchPage"), "ScanBatchPage"),
});

// Alerts under the filters of the URL; ?alert=<id> opens one in the drawer.
export const alertsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/alerts",
  validateSearch: (s: Record<string, unknown>) =>
    partial({
      state: oneOf(s.state, ALERT_STATES),
      severity: oneOf(s.severity, ALERT_SEVERITIES),
      host_id: str(s.host_id),
      alert: str(s.alert),
    }),
  component: lazyRouteComponent(() => import("./pages/AlertsPage"), "AlertsPage"),
});

// Exceptions under the filters of the URL; ?exception=<id> opens one in the drawer.
export const exceptionsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/exceptions",
  validateSearch: (s: Record<string, unknown>) =>
    partial({
      status: oneOf(s.status, EXCEPTION_STATUSES),
      scope: oneOf(s.scope, EXCEPTION_SCOPES),
      kind: oneOf(s.kind, EXCEPTION_KINDS),
      host_id: str(s.host_id),
      exception: str(s.exception),
    }),
  component: lazyRouteComponent(() => import("./pages/ExceptionsPage"), "ExceptionsPage"),
});

// Vulnerability exposure: ?tab=feeds for uploads and the import history, ?vuln=<id> opens
// an advisory in the drawer.
export const vulnerabilitiesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/vulnerabilities",
  validateSearch: (s: Record<string, unknown>) =>
    partial({
      tab: oneOf(s.tab, ["exposure", "feeds"] as const),
      severity: oneOf(s.severity, VULN_SEVERITIES),
      q: str(s.q),
      vuln: str(s.vuln),
    }),
  component: lazyRouteComponent(() => import("./pages/VulnerabilitiesPage"), "VulnerabilitiesPage"),
});

export const notificationsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/notifications",
  validateSearch: (s: Record<string, unknown>) =>
    partial({
      tab: oneOf(s.tab, ["channels", "deliveries"] as const),
      edit: str(s.edit),
      status: oneOf(s.status, ["pending", "delivered", "failed", "dead", "skipped"] as const),
    }),
  component: lazyRouteComponent(() => import("./pages/NotificationsPage"), "NotificationsPage"),
});

export const healthChecksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/health-checks",
  component: lazyRouteComponent(() => import("./pages/HealthChecksPage"), "HealthChecksPage"),
});

export const certificatesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/certificates",
  component: lazyRouteComponent(() => import("./pages/CertificatesPage"), "CertificatesPage"),
});

export const reportsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/reports",
  component: lazyRouteComponent(() => import("./pages/ReportsPage"), "ReportsPage"),
});

export const userRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/admin/users/$userId",
  component: lazyRouteComponent(() => import("./pages/UserDetailPage"), "UserDetailPage"),
});

export const serviceAccountRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/admin/service-accounts/$serviceAccountId",
  component: lazyRouteComponent(() => import("./pages/ServiceAccountPage"), "ServiceAccountPage"),
});

// Changes: patch jobs and remediation requests, each a list (?new=true opens its form) and
// a detail page.
const CHANGE_SEARCH = (s: Record<string, unknown>) => partial({ status: oneOf(s.status, CHANGE_STATUSES), new: bool(s.new) });

export const patchJobsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/jobs",
  validateSearch: CHANGE_SEARCH,
  component: lazyRouteComponent(() => import("./pages/PatchJobsPage"), "PatchJobsPage"),
});

export const patchJobRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/jobs/$jobId",
  component: lazyRouteComponent(() => import("./pages/PatchJobsPage"), "PatchJobPage"),
});

export const remediationsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/remediation",
  validateSearch: CHANGE_SEARCH,
  component: lazyRouteComponent(() => import("./pages/RemediationPage"), "RemediationListPage"),
});

export const remediationRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/remediation/$requestId",
  component: lazyRouteComponent(() => import("./pages/RemediationPage"), "RemediationPage"),
});

const routeTree = rootRoute.addChildren([
  signInRoute,
  ssoCallbackRoute,
  appRoute.addChildren([
    systemStatusRoute,
    dashboardRoute,
    hostsRoute,
    hostRoute,
    scansRoute,
    scanRoute,
    rulesRoute,
    ruleRoute,
    activityRoute,
    auditRoute,
    adminRoute,
    discoveryRoute,
    settingsRoute,
    accountRoute,
    groupsRoute,
    groupRoute,
    intelligenceRoute,
    scanBatchesRoute,
    scanBatchRoute,
    alertsRoute,
    exceptionsRoute,
    vulnerabilitiesRoute,
    notificationsRoute,
    healthChecksRoute,
    certificatesRoute,
    reportsRoute,
    userRoute,
    serviceAccountRoute,
    patchJobsRoute,
    patchJobRoute,
    remediationsRoute,
    remediationRoute,
  ]),
]);

// makeRouter builds the app's router; tests pass a memory history.
export function makeRouter(queryClient: QueryClient, history?: RouterHistory) {
  return createRouter({
    routeTree,
    history,
    context: { queryClient },
    defaultPreload: "intent",
    // Query owns caching; the router only decides what to render.
    defaultPreloadStaleTime: 0,
    scrollRestoration: true,
  });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof makeRouter>;
  }
}
