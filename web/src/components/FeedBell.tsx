import { ActionIcon, Badge, Button, Group, Indicator, Popover, ScrollArea, Stack, Text, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "@tanstack/react-router";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "./ErrorAlert";
import { SeverityBadge } from "./badges";

type FeedItem = Schemas["FeedItem"];

// The feed's queries start with "notifications", so the notifications topic of the event
// stream refreshes them; without a stream (or without activity:read) they poll.
export const feedQueryKey = ["notifications", "feed", "recent"] as const;

function BellIcon() {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
      <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
      <path d="M13.7 21a2 2 0 0 1-3.4 0" />
    </svg>
  );
}

// FeedBell is the header's bell: the caller's unread count and, opened, their recent feed
// items, each linking to its page (and marked read when followed), with "mark all read".
export function FeedBell() {
  const qc = useQueryClient();
  const router = useRouter();
  const [opened, { toggle, close }] = useDisclosure(false);
  const feed = useQuery({
    queryKey: feedQueryKey,
    queryFn: () => unwrap(api.GET("/notifications/feed", { params: { query: { limit: 10 } } })),
    refetchInterval: 60_000,
  });
  const done = () => void qc.invalidateQueries({ queryKey: ["notifications", "feed"] });
  const markOne = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/notifications/feed/{id}:read", { params: { path: { id } } })),
    onSettled: done,
  });
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/notifications/feed:read-all", {})),
    onSettled: done,
  });
  const unread = feed.data?.unread_count ?? 0;
  const label = unread === 0 ? "Notifications, none unread" : `Notifications, ${unread >= 1000 ? "999+" : unread} unread`;
  const follow = (item: FeedItem) => {
    if (!item.read_at) markOne.mutate(item.id);
    close();
    if (item.link.startsWith("/")) void router.history.push(item.link);
  };
  return (
    <Popover opened={opened} onChange={(o) => (o ? undefined : close())} position="bottom-end" width={360} shadow="md" withinPortal trapFocus>
      {/* The indicator wraps the target: the popover's ARIA attributes go on the button. */}
      <Indicator disabled={unread === 0} label={unread > 99 ? "99+" : unread} size={16} color="red" offset={4} data-testid="feed-unread">
        <Popover.Target>
          <ActionIcon variant="default" size="lg" onClick={toggle} aria-label={label} data-testid="feed-bell">
            <BellIcon />
          </ActionIcon>
        </Popover.Target>
      </Indicator>
      <Popover.Dropdown data-testid="feed-dropdown" aria-label="Notifications" role="dialog">
        <Group justify="space-between" mb="xs">
          <Text fw={600} size="sm">
            Notifications
          </Text>
          <Button
            size="compact-xs"
            variant="subtle"
            onClick={() => markAll.mutate()}
            disabled={unread === 0}
            loading={markAll.isPending}
            data-testid="feed-read-all"
          >
            Mark all read
          </Button>
        </Group>
        <ErrorAlert error={feed.error ?? markAll.error ?? markOne.error} />
        {feed.data && feed.data.items.length === 0 && (
          <Text size="sm" c="dimmed">
            Nothing yet.
          </Text>
        )}
        <ScrollArea.Autosize mah={400}>
          <Stack gap={4} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Recent notifications">
            {feed.data?.items.map((item) => (
              <li key={item.id}>
                <UnstyledButton
                  onClick={() => follow(item)}
                  p="xs"
                  w="100%"
                  style={{ borderRadius: 4, background: item.read_at ? undefined : "var(--mantine-color-blue-light)" }}
                  data-testid="feed-item"
                  data-unread={item.read_at ? "false" : "true"}
                >
                  <Group gap="xs" wrap="nowrap" align="flex-start">
                    {item.severity && <SeverityBadge severity={item.severity} />}
                    <Stack gap={0} style={{ minWidth: 0 }}>
                      <Text size="sm" fw={item.read_at ? 400 : 600} lineClamp={2}>
                        {item.title}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {formatDateTime(item.created_at)}
                        {!item.read_at && (
                          <Badge ml={6} size="xs" variant="light">
                            new
                          </Badge>
                        )}
                      </Text>
                    </Stack>
                  </Group>
                </UnstyledButton>
              </li>
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Popover.Dropdown>
    </Popover>
  );
}
