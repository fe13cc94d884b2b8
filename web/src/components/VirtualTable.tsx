import { Button, Center, Group, Loader, Table, Text } from "@mantine/core";
import { tableFeatures, useTable, type ColumnDef, type Row, type RowData } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useRef, type ReactNode } from "react";

// The table features every list uses: none beyond the core. Sorting, filtering and paging
// happen on the server, so the table only lays out what the server sent.
export const listFeatures = tableFeatures({});
export type ListFeatures = typeof listFeatures;
export type ListColumn<T extends RowData> = ColumnDef<ListFeatures, T, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface VirtualTableProps<T extends RowData> {
  // Names the table for assistive technology.
  label: string;
  columns: ListColumn<T>[];
  rows: T[];
  getRowId: (row: T) => string;
  hasNextPage?: boolean;
  isFetchingNextPage?: boolean;
  fetchNextPage?: () => void;
  isLoading?: boolean;
  empty?: string;
  // Height of the scrolling area; rows outside it are not in the DOM.
  height?: number | string;
  rowHeight?: number;
  // Whether to measure each rendered row (lists whose rows wrap) or trust rowHeight (long
  // lists of one-line rows, where measuring costs frames while scrolling).
  measureRows?: boolean;
  // The size assumed before the first measurement (and in jsdom, which has no layout).
  initialRect?: { width: number; height: number };
  testId?: string;
}

// VirtualTable renders a server-paged list as a real <table> (so headers and cells keep
// their meaning for screen readers) whose body only holds the rows in view plus a few,
// with spacer rows standing in for the rest. Rows are measured as they render, so rows
// that wrap onto two lines keep the scroll height right. Scrolling near the end loads the next page;
// a "Load more" button does the same from the keyboard.
export function VirtualTable<T extends RowData>({
  label,
  columns,
  rows,
  getRowId,
  hasNextPage = false,
  isFetchingNextPage = false,
  fetchNextPage,
  isLoading = false,
  empty = "Nothing to show.",
  height = "calc(100vh - 260px)",
  rowHeight = 44,
  measureRows = true,
  initialRect = { width: 1200, height: 800 },
  testId,
}: VirtualTableProps<T>) {
  const table = useTable({ features: listFeatures, columns, data: rows, getRowId: (r) => getRowId(r) });
  const scrollRef = useRef<HTMLDivElement>(null);
  const modelRows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: modelRows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    initialRect,
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];

  useEffect(() => {
    if (!last || !hasNextPage || isFetchingNextPage || !fetchNextPage) return;
    if (last.index >= modelRows.length - 20) fetchNextPage();
  }, [last, hasNextPage, isFetchingNextPage, fetchNextPage, modelRows.length]);

  const paddingTop = items.length > 0 ? (items[0]?.start ?? 0) : 0;
  const paddingBottom = items.length > 0 ? virtualizer.getTotalSize() - (last?.end ?? 0) : 0;
  const colCount = columns.length;

  return (
    <div>
      {/* The scroller is focusable so keyboard users can scroll it even when its rows hold
          no links. */}
      <div
        ref={scrollRef}
        className="vt-scroll"
        style={{ height, maxHeight: height }}
        data-testid={testId}
        tabIndex={0}
        role="region"
        aria-label={`${label}, scrollable`}
      >
        <Table striped highlightOnHover aria-label={label} aria-rowcount={modelRows.length + 1} verticalSpacing="xs">
          <Table.Thead>
            {table.getHeaderGroups().map((group) => (
              <Table.Tr key={group.id}>
                {group.headers.map((header) => (
                  <Table.Th key={header.id} scope="col">
                    {header.isPlaceholder ? null : <table.FlexRender header={header} />}
                  </Table.Th>
                ))}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody>
            {paddingTop > 0 && (
              <tr aria-hidden="true">
                <td colSpan={colCount} style={{ height: paddingTop, padding: 0, border: 0 }} />
              </tr>
            )}
            {items.map((item) => {
              const row = modelRows[item.index];
              if (!row) return null;
              return (
                <VirtualRow
                  key={row.id}
                  row={row}
                  index={item.index}
                  columns={columns}
                  rowHeight={rowHeight}
                  measure={measureRows ? virtualizer.measureElement : undefined}
                  render={(cell) => <table.FlexRender cell={cell} />}
                />
              );
            })}
            {paddingBottom > 0 && (
              <tr aria-hidden="true">
                <td colSpan={colCount} style={{ height: paddingBottom, padding: 0, border: 0 }} />
              </tr>
            )}
          </Table.Tbody>
        </Table>
        {isLoading && (
          <Center p="md">
            <Loader role="status" size="sm" aria-label="Loading" />
          </Center>
        )}
        {!isLoading && modelRows.length === 0 && (
          <Text p="md" c="dimmed">
            {empty}
          </Text>
        )}
      </div>
      <Group justify="space-between" mt="xs">
        <Text size="sm" c="dimmed" aria-live="polite" data-testid={testId ? `${testId}-count` : undefined}>
          {modelRows.length.toLocaleString()} shown{hasNextPage ? ", more available" : ""}
        </Text>
        {hasNextPage && fetchNextPage && (
          <Button variant="default" size="xs" onClick={() => fetchNextPage()} loading={isFetchingNextPage}>
            Load more
          </Button>
        )}
      </Group>
    </div>
  );
}

type AnyRow = Row<ListFeatures, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type AnyCell = ReturnType<AnyRow["getAllCells"]>[number];

interface VirtualRowProps {
  row: AnyRow;
  index: number;
  // The columns the cells come from: a change of columns renders the row again.
  columns: unknown;
  rowHeight: number;
  measure?: (el: Element | null) => void;
  render: (cell: AnyCell) => ReactNode;
}

// VirtualRow is one rendered row. While the table scrolls, or a page is appended, the rows
// already in view keep their props (the same data, index and columns), so only the rows
// scrolling in render: a frame costs a few rows, not every row in view. What a cell shows beyond its row
// (a selection, say) reaches it through context, which renders it on its own.
const VirtualRow = memo(
  function VirtualRow({ row, index, rowHeight, measure, render }: VirtualRowProps) {
    return (
      <Table.Tr aria-rowindex={index + 2} data-index={index} ref={measure} style={{ height: rowHeight }}>
        {row.getAllCells().map((cell) => (
          <Table.Td key={cell.id}>{render(cell)}</Table.Td>
        ))}
      </Table.Tr>
    );
  },
  // The row objects are made anew whenever a page is appended, but what a row shows comes
  // from its data (row.original, kept by the query cache's structural sharing) and columns.
  (a, b) => a.row.original === b.row.original && a.row.id === b.row.id && a.index === b.index && a.columns === b.columns && a.rowHeight === b.rowHeight && a.measure === b.measure,
);
