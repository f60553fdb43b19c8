import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import type { BrowsePage } from '../bindings/BrowsePage';
import type { BrowseQuery } from '../bindings/BrowseQuery';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { RecordBrowser, browserTestIds, type ColumnWidths, type RecordBrowserProps } from './RecordBrowser';

const resources: ResourceInfo[] = [
  {
    name: 'orders',
    columns: [
      { name: 'customer', kind: 'text' },
      { name: 'amount', kind: 'decimal' },
    ],
    supports_incremental: true,
  },
  { name: 'items', columns: [], supports_incremental: true },
];
const widths: ColumnWidths = { id: 100, text: 150, code: 100, decimal: 120, date: 110 };
const label = (_: unknown, name: string) => `L:${name}`;

function browseOf(total: number) {
  return vi.fn(async (q: BrowseQuery): Promise<BrowsePage> => ({
    columns: [],
    total,
    rows: Array.from({ length: Math.max(0, Math.min(q.limit, total - q.offset)) }, (_, k) => ({
      id: `R${q.offset + k}`,
      values: [`Customer ${q.offset + k}`, '1234.5'],
      deleted_at: q.offset + k === 1 ? '2025-01-02T03:04:05Z' : null,
      fetched_at: '2025-01-01T00:00:00Z',
    })),
  }));
}

function setup(props: Partial<RecordBrowserProps> & Pick<RecordBrowserProps, 'browse'>) {
  const onResourceChange = vi.fn();
  const renderRecord = vi.fn((row: { id: string }) => <aside data-testid="demo-panel">{row.id}</aside>);
  render(
    <RecordBrowser
      connectionId="c1"
      resources={resources}
      resource="orders"
      onResourceChange={onResourceChange}
      pageSize={2}
      texts="omie.browser"
      loadingKey="common.loading"
      testIds={browserTestIds('demo')}
      resourceLabel={label}
      columnLabel={label}
      widths={widths}
      sortLabel="aria"
      renderRecord={renderRecord}
      {...props}
    />,
  );
  return { onResourceChange, renderRecord };
}

describe('RecordBrowser', () => {
  it('names every part after the test id prefix, pages on demand and opens the chosen record', async () => {
    const browse = browseOf(3);
    const { onResourceChange, renderRecord } = setup({ browse, markDeletedRows: true });
    const browser = await screen.findByTestId('demo-browser');
    expect(browser).toHaveAttribute('data-resource', 'orders');
    await waitFor(() => expect(within(browser).getAllByTestId('demo-browse-row')).toHaveLength(2));
    expect(within(browser).getByTestId('demo-browse-total')).toHaveTextContent('3 records');
    expect(within(browser).getByTestId('demo-browse-total')).not.toHaveAttribute('data-total');
    expect(browse).toHaveBeenLastCalledWith(
      expect.objectContaining({ connection_id: 'c1', resource: 'orders', offset: 0, limit: 2, filters: [], search: null }),
    );
    const [, second] = within(browser).getAllByTestId('demo-browse-row');
    expect(second).toHaveAttribute('data-deleted', 'true');
    expect(second).toHaveTextContent('1,234.5');

    fireEvent.click(within(browser).getByTestId('demo-browse-more'));
    await waitFor(() => expect(within(browser).getAllByTestId('demo-browse-row')).toHaveLength(3));
    expect(browse).toHaveBeenLastCalledWith(expect.objectContaining({ offset: 2 }));
    expect(within(browser).queryByTestId('demo-browse-more')).not.toBeInTheDocument();

    fireEvent.change(within(browser).getByTestId('demo-browse-resource'), { target: { value: 'items' } });
    expect(onResourceChange).toHaveBeenCalledWith('items');

    fireEvent.click(second!);
    expect(await screen.findByTestId('demo-panel')).toHaveTextContent('R1');
    expect(renderRecord).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'R1' }), expect.any(Function));
  });

  it('sorts from the headers; without column filters the headers hold only the sort button', async () => {
    const browse = browseOf(1);
    setup({ browse });
    const button = await screen.findByTestId('demo-sort-amount');
    expect(button).toHaveAttribute('aria-label', 'Sort by L:amount');
    expect(button).toHaveAttribute('data-sort', 'none');
    expect(screen.queryByTestId('demo-filter-customer')).not.toBeInTheDocument();
    expect(document.querySelector('.th-inner')).toBeNull();
    fireEvent.click(button);
    await waitFor(() => expect(browse).toHaveBeenLastCalledWith(expect.objectContaining({ sort: 'amount', desc: false })));
    expect(screen.getByTestId('demo-sort-amount')).toHaveAttribute('data-sort', 'asc');
    fireEvent.click(screen.getByTestId('demo-sort-amount'));
    await waitFor(() => expect(browse).toHaveBeenLastCalledWith(expect.objectContaining({ sort: 'amount', desc: true })));
  });

  it('filters under each header, keeps the typing focus, and lets a page render its own cells', async () => {
    const browse = browseOf(1);
    const renderCell = (c: ColumnInfo, v: string) => (c.kind === 'decimal' ? <b data-testid="own-cell">{v}</b> : undefined);
    setup({ browse, columnFilters: true, renderCell });
    expect(await screen.findByTestId('own-cell')).toHaveTextContent('1234.5');
    const filter = screen.getByTestId('demo-filter-customer');
    filter.focus();
    fireEvent.change(filter, { target: { value: 'acme' } });
    expect(screen.getByTestId('demo-filter-customer')).toHaveFocus();
    expect(screen.getByTestId('demo-filter-amount-gte')).toHaveAttribute('inputmode', 'decimal');
    await waitFor(() =>
      expect(browse).toHaveBeenLastCalledWith(
        expect.objectContaining({ filters: [{ column: 'customer', op: 'contains', value: 'acme' }] }),
      ),
    );
  });
});
