// A table built on @tanstack/react-table. Above `virtualizeAbove` rows it renders only the rows in
// view (@tanstack/react-virtual), so lists of 100 000 rows scroll smoothly; small lists render
// every row (simpler for assistive technology and for tests).
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

export interface DataTableProps<T> {
  data: T[];
  columns: ColumnDef<T, any>[];
  getRowId: (row: T) => string;
  rowAttributes?: (row: T) => RowAttributes;
  onRowClick?: (row: T) => void;
  selectedId?: string | null;
  /** Fixed row height in px (virtual scrolling needs it). */
  rowHeight?: number;
  virtualizeAbove?: number;
  empty?: ReactNode;
  className?: string;
  label?: string;
  /** Column ids to leave out (e.g. when a side panel takes room). */
  hiddenColumns?: readonly string[];
}

export function DataTable<T>({
  data,
  columns,
  getRowId,
  rowAttributes,
  onRowClick,
  selectedId,
  rowHeight = 52,
  virtualizeAbove = 300,
  empty,
  className,
  label,
  hiddenColumns = [],
}: DataTableProps<T>) {
  const table = useReactTable({
    data,
    columns,
    state: { columnVisibility: Object.fromEntries(hiddenColumns.map((id) => [id, false])) },
    getRowId: (row) => getRowId(row),
    getCoreRowModel: getCoreRowModel(),
  });
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtual = rows.length > virtualizeAbove;

  const virtualizer = useVirtualizer({
    count: virtual ? rows.length : 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 15,
  });

  const leafColumns = table.getVisibleLeafColumns();
  const colCount = leafColumns.length;
  // Column sizes are relative weights, so the table always fits its container.
  const totalSize = leafColumns.reduce((sum, c) => sum + c.getSize(), 0) || 1;
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
      <table className="table" aria-label={label} aria-rowcount={rows.length + 1}>
        <colgroup>
          {leafColumns.map((col) => (
            <col key={col.id} style={{ width: `${((col.getSize() / totalSize) * 100).toFixed(2)}%` }} />
          ))}
        </colgroup>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => (
                <th key={h.id} className={`col-${h.column.id}`}>
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
                className={[onRowClick ? 'clickable' : '', selected ? 'selected' : ''].join(' ').trim() || undefined}
                style={{ height: rowHeight }}
                tabIndex={onRowClick ? 0 : undefined}
                onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                onKeyDown={onRowClick ? (e) => onKey(e, row.original) : undefined}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={`col-${cell.column.id}`}>
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
