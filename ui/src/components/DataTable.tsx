// The one table of the app, built on @tanstack/react-table. Above `virtualizeAbove` rows it renders
// only the rows in view (@tanstack/react-virtual), so lists of 100 000 rows scroll smoothly; small
// lists render every row (simpler for assistive technology and for tests).
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export type RowAttributes = Record<`data-${string}`, string>;

/**
 * What a column may say in its `meta` about how it is laid out. Every cell of column `x` has the
 * class `col-x`; `className` adds classes to its header and cells, `cellClassName` to its cells only.
 * `width` (any CSS length) fixes the column's width: when a column gives one, columns without one
 * share what is left; when none does, each column's `size` is its share of the table's width.
 */
export interface TableColumnMeta {
  width?: string;
  className?: string;
  cellClassName?: string;
}

const metaOf = (column: { columnDef: { meta?: unknown } }): TableColumnMeta => (column.columnDef.meta ?? {}) as TableColumnMeta;
const classes = (...names: (string | undefined)[]): string => names.filter(Boolean).join(' ');

export interface DataTableProps<T> {
  data: T[];
  columns: ColumnDef<T, any>[];
  getRowId: (row: T, index: number) => string;
  rowAttributes?: (row: T) => RowAttributes;
  rowClassName?: (row: T) => string | undefined;
  onRowClick?: (row: T) => void;
  selectedId?: string | null;
  /** Fixed row height in px (virtual scrolling needs it); null lets each row fit its content, and never virtualizes. */
  rowHeight?: number | null;
  virtualizeAbove?: number;
  empty?: ReactNode;
  /** Classes of the scrolling box around the table (which is always `table-scroll`). */
  className?: string;
  /** Classes of the `<table>` itself (which is always `table`). */
  tableClassName?: string;
  label?: string;
  /** Column ids to leave out (e.g. when a side panel takes room). */
  hiddenColumns?: readonly string[];
}

export function DataTable<T>({
  data,
  columns,
  getRowId,
  rowAttributes,
  rowClassName,
  onRowClick,
  selectedId,
  rowHeight = 52,
  virtualizeAbove = 300,
  empty,
  className,
  tableClassName,
  label,
  hiddenColumns = [],
}: DataTableProps<T>) {
  const table = useReactTable({
    data,
    columns,
    state: { columnVisibility: Object.fromEntries(hiddenColumns.map((id) => [id, false])) },
    getRowId: (row, index) => getRowId(row, index),
    getCoreRowModel: getCoreRowModel(),
  });
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtual = rowHeight !== null && rows.length > virtualizeAbove;

  const virtualizer = useVirtualizer({
    count: virtual ? rows.length : 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight ?? 0,
    overscan: 15,
  });

  const leafColumns = table.getVisibleLeafColumns();
  const colCount = leafColumns.length;
  // Fixed widths where the columns give them; else sizes are relative weights, so the table always
  // fits its container.
  const fixedWidths = leafColumns.some((c) => metaOf(c).width !== undefined);
  const totalSize = leafColumns.reduce((sum, c) => sum + c.getSize(), 0) || 1;
  const colWidth = (col: (typeof leafColumns)[number]): string | undefined =>
    fixedWidths ? metaOf(col).width : `${((col.getSize() / totalSize) * 100).toFixed(2)}%`;
  let visible: Row<T>[] = rows;
  let padTop = 0;
  let padBottom = 0;
  if (virtual) {
    const items = virtualizer.getVirtualItems();
    visible = items.map((i) => rows[i.index]).filter((r): r is Row<T> => r !== undefined);
    padTop = items[0]?.start ?? 0;
    padBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  }

  const onKey = (e: KeyboardEvent<HTMLTableRowElement>, row: T) => {
    if (onRowClick && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      onRowClick(row);
    }
  };

  return (
    <div ref={scrollRef} className={className ? `table-scroll ${className}` : 'table-scroll'}>
      <table className={classes('table', tableClassName)} aria-label={label} aria-rowcount={rows.length + 1}>
        <colgroup>
          {leafColumns.map((col) => {
            const width = colWidth(col);
            return <col key={col.id} style={width ? { width } : undefined} />;
          })}
        </colgroup>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => (
                <th key={h.id} className={classes(`col-${h.column.id}`, metaOf(h.column).className)}>
                  {h.isPlaceholder ? null : flexRender(h.column.columnDef.header, h.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {rows.length === 0 && empty ? (
            <tr className="table-empty">
              <td colSpan={colCount}>{empty}</td>
            </tr>
          ) : null}
          {padTop > 0 ? (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={colCount} style={{ height: padTop, padding: 0, border: 0 }} />
            </tr>
          ) : null}
          {visible.map((row) => {
            const selected = selectedId != null && row.id === selectedId;
            return (
              <tr
                key={row.id}
                {...(rowAttributes ? rowAttributes(row.original) : {})}
                aria-rowindex={row.index + 2}
                aria-selected={onRowClick ? selected : undefined}
                className={classes(onRowClick ? 'clickable' : undefined, selected ? 'selected' : undefined, rowClassName?.(row.original)) || undefined}
                style={rowHeight === null ? undefined : { height: rowHeight }}
                tabIndex={onRowClick ? 0 : undefined}
                onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                onKeyDown={onRowClick ? (e) => onKey(e, row.original) : undefined}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={classes(`col-${cell.column.id}`, metaOf(cell.column).className, metaOf(cell.column).cellClassName)}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
            );
          })}
          {padBottom > 0 ? (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={colCount} style={{ height: padBottom, padding: 0, border: 0 }} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
