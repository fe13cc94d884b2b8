import { createTheme, Drawer, Modal, Notification, type CSSVariablesResolver } from "@mantine/core";

// The palette keeps text at WCAG AA contrast in both schemes: filled buttons use dark enough
// shades for white text (7 in light mode, 8 in dark mode).
export const theme = createTheme({
  primaryColor: "indigo",
  primaryShade: { light: 7, dark: 8 },
  defaultRadius: "sm",
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
  focusRing: "auto",
  // Animations stop for people who asked their system for less motion.
  respectReducedMotion: true,
  components: {
    // Mantine's close buttons are icons only: give them a name screen readers can say.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    Notification: Notification.extend({
      defaultProps: { closeButtonProps: { "aria-label": "Close notification" } },
    }),
  },
});

// cssVariables darkens (lightens in the dark scheme) the text colours that Mantine draws under the
// WCAG AA contrast of 4.5:1: dimmed text (gray 6 on white) and the light and outline
// variants of badges and alerts (under 4.5:1 for teal, green, yellow and orange on their tinted backgrounds).
export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "var(--mantine-color-gray-7)",
    // Links keep 4.5:1 on a hovered or striped table row too, not only on white.
    "--mantine-color-anchor": "var(--mantine-color-indigo-8)",
    "--mantine-color-error": "var(--mantine-color-red-9)",
    "--mantine-color-teal-light-color": "#05543c",
    "--mantine-color-green-light-color": "#1e5e2a",
    "--mantine-color-red-light-color": "var(--mantine-color-red-9)",
    "--mantine-color-blue-light-color": "var(--mantine-color-blue-9)",
    "--mantine-color-indigo-light-color": "var(--mantine-color-indigo-9)",
    "--mantine-color-gray-light-color": "var(--mantine-color-gray-8)",
    "--mantine-color-yellow-light-color": "#6b4500",
    "--mantine-color-orange-light-color": "#8a3300",
    "--mantine-color-teal-outline": "var(--mantine-color-teal-9)",
    "--mantine-color-red-outline": "var(--mantine-color-red-9)",
    "--mantine-color-blue-outline": "var(--mantine-color-blue-9)",
    "--mantine-color-gray-outline": "var(--mantine-color-gray-8)",
    "--mantine-color-yellow-outline": "#6b4500",
    "--mantine-color-orange-outline": "#8a3300",
  },
  dark: {
    "--mantine-color-dimmed": "var(--mantine-color-dark-1)",
    "--mantine-color-anchor": "var(--mantine-color-indigo-3)",
    "--mantine-color-error": "var(--mantine-color-red-4)",
  },
});
