import {
  ActionIcon,
  AppShell,
  Badge,
  Burger,
  Group,
  Menu,
  Text,
  Tooltip,
  UnstyledButton,
  VisuallyHidden,
  useComputedColorScheme,
  useMantineColorScheme,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Outlet, useNavigate, useRouterState } from "@tanstack/react-router";
import { useEffect, useRef } from "react";
import { meQuery, permissionsQuery, signOut } from "../auth/session";
import { FeedBell } from "../components/FeedBell";
import { NavLinkLink } from "../components/links";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { LiveEvents, useLiveStatus } from "../events/LiveEvents";

interface NavItem {
  to: "/" | "/hosts" | "/groups" | "/scans" | "/scan-batches" | "/rules" | "/intelligence" | "/alerts" | "/exceptions" | "/vulnerabilities" | "/activity" | "/audit" | "/notifications" | "/admin" | "/settings" | "/system" | "/health-checks" | "/certificates" | "/jobs" | "/remediation" | "/reports";
  label: string;
  // Shown only to callers holding this permission; the page would only answer 403.
  permission?: string;
  // Items of a section are listed together under its heading, after the items of none.
  section?: "Changes";
}

const NAV: NavItem[] = [
  { to: "/", label: "Dashboard" },
  { to: "/hosts", label: "Hosts", permission: "host:read" },
  { to: "/groups", label: "Groups", permission: "host:read" },
  { to: "/scans", label: "Scans", permission: "scan:read" },
  { to: "/scan-batches", label: "Scan batches", permission: "scan:read" },
  { to: "/rules", label: "Rules", permission: "scan:read" },
  { to: "/intelligence", label: "Intelligence", permission: "host:read" },
  { to: "/certificates", label: "Certificates", permission: "host:read" },
  { to: "/alerts", label: "Alerts", permission: "alert:read" },
  { to: "/exceptions", label: "Exceptions", permission: "exception:read" },
  { to: "/vulnerabilities", label: "Vulnerabilities", permission: "vulnerability:read" },
  { to: "/jobs", label: "Patch jobs", permission: "patch:read", section: "Changes" },
  { to: "/remediation", label: "Remediation", permission: "remediation:read", section: "Changes" },
  { to: "/activity", label: "Activity", permission: "activity:read" },
  { to: "/audit", label: "Audit log", permission: "audit:read" },
  { to: "/reports", label: "Reports", permission: "report:read" },
  { to: "/notifications", label: "Notifications", permission: "notification:read" },
  { to: "/admin", label: "Administration", permission: "user:read" },
  { to: "/settings", label: "Settings", permission: "system:read" },
  { to: "/system", label: "System status", permission: "system:read" },
  { to: "/health-checks", label: "Health checks", permission: "health_check:read", section: "Changes" },
];

// navGroups splits the visible items into the unsectioned ones and each section's, in order
// of first appearance.
function navGroups(items: NavItem[]): { section?: string; items: NavItem[] }[] {
  const groups: { section?: string; items: NavItem[] }[] = [{ items: items.filter((n) => !n.section) }];
  for (const n of items) {
    if (!n.section) continue;
    const g = groups.find((x) => x.section === n.section);
    if (g) g.items.push(n);
    else groups.push({ section: n.section, items: [n] });
  }
  return groups.filter((g) => g.items.length > 0);
}

function LiveIndicator() {
  const status = useLiveStatus();
  const [color, label] =
    status === "open"
      ? ["teal", "Live"]
      : status === "stopped"
        ? ["gray", "Offline"]
        : ["yellow", "Reconnecting"];
  return (
    <Tooltip label="Live updates from the server">
      <Badge color={color} variant="light" data-testid="live-status" aria-live="polite">
        {label}
      </Badge>
    </Tooltip>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme("light", { getInitialValueInEffect: true });
  const next = computed === "dark" ? "light" : "dark";
  return (
    <ActionIcon
      variant="default"
      size="lg"
      onClick={() => setColorScheme(next)}
      aria-label={`Switch to ${next} mode`}
      data-testid="color-scheme-toggle"
    >
      {computed === "dark" ? (
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
          <circle cx="12" cy="12" r="4" />
          <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
        </svg>
      ) : (
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
          <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
        </svg>
      )}
    </ActionIcon>
  );
}

// AppLayout is the shell of every signed-in page: navigation, the live-updates indicator,
// the colour scheme switch and the account menu. It also holds the tab's event stream.
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { data: me } = useQuery(meQuery);
  const { data: perms } = useQuery(permissionsQuery);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Move focus to the page's content after each navigation (not the first load), so
  // keyboard and screen-reader users start reading the new page, not the menu.
  useEffect(() => {
    close();
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [pathname, close]);

  const can = (p?: string) => !p || (perms?.permissions.includes(p) ?? false);
  const canStream = perms?.permissions.includes("activity:read") ?? false;

  return (
    <LiveEvents enabled={!!me && canStream}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell
        header={{ height: 56 }}
        navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
        padding="md"
      >
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
              <Text fw={700} size="lg" component="span">
                OpenWatch
              </Text>
            </Group>
            <Group gap="sm" wrap="nowrap">
              <LiveIndicator />
              <FeedBell />
              <ColorSchemeToggle />
              <Menu position="bottom-end" withinPortal>
                <Menu.Target>
                  <UnstyledButton data-testid="account-menu" px="xs">
                    <Text size="sm" fw={500}>
                      {me?.username}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {me?.role}
                    </Text>
                    <VisuallyHidden>account menu</VisuallyHidden>
                  </UnstyledButton>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item onClick={() => void navigate({ to: "/account" })}>Account and security</Menu.Item>
                  <Menu.Item component="a" href="/api/docs">
                    API reference
                  </Menu.Item>
                  <Menu.Divider />
                  <Menu.Item
                    color="red"
                    onClick={() =>
                      void signOut(qc).finally(() => navigate({ to: "/sign-in", search: { redirect: undefined } }))
                    }
                  >
                    Sign out
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            </Group>
          </Group>
        </AppShell.Header>
        {/* The navigation scrolls on its own when it is taller than the window. */}
        <AppShell.Navbar p="xs" aria-label="Main" style={{ overflowY: "auto" }}>
          <nav aria-label="Main">
            {navGroups(NAV.filter((n) => can(n.permission))).map((g) => {
              const links = g.items.map((n) => (
                <NavLinkLink
                  key={n.to}
                  to={n.to}
                  label={n.label}
                  activeOptions={{ exact: n.to === "/" }}
                  activeProps={{ "data-active": true, "aria-current": "page" }}
                />
              ));
              if (!g.section) return links;
              const id = `nav-section-${g.section.toLowerCase()}`;
              return (
                <div key={g.section} role="group" aria-labelledby={id}>
                  <Text id={id} size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="sm" pb={4}>
                    {g.section}
                  </Text>
                  {links}
                </div>
              );
            })}
          </nav>
          <VersionLine />
        </AppShell.Navbar>
        <AppShell.Main id="main" ref={mainRef} tabIndex={-1} style={{ outline: "none" }}>
          <Outlet />
        </AppShell.Main>
      </AppShell>
    </LiveEvents>
  );
}

// VersionLine names the running build at the foot of the navigation, with the rule engine's
// version and the API document beside it: what a support request asks for first.
function VersionLine() {
  const { data } = useQuery({
    queryKey: ["version"],
    queryFn: () => unwrap(api.GET("/version")),
    staleTime: Infinity,
  });
  if (!data) return null;
  return (
    <Text size="xs" c="dimmed" mt="auto" pt="md" data-testid="version">
      OpenWatch {data.openwatch} · rules {data.kensa} ·{" "}
      <a href="/api/docs" style={{ color: "inherit" }}>
        API
      </a>
    </Text>
  );
}
