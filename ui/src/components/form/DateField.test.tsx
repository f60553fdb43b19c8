import { act, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { RewindDialog } from '../../features/sync/Rewind';
import { SyncPanel } from '../../features/sync/SyncPanel';
import i18n from '../../i18n';
import { connection, job, resourceSummary } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { DateField } from './DateField';
import { messageId } from './Field';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

/** A form holding one date field; `seen` gets every value the field hands over. */
function Form({ initial = '', withTime = false, seen }: { initial?: string; withTime?: boolean; seen?: (v: string) => void }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <DateField
        id="d"
        label="Date"
        hint="A hint"
        withTime={withTime}
        value={value}
        onChange={(v) => {
          setValue(v);
          seen?.(v);
        }}
        data-testid="d"
      />
      <output data-testid="value">{value}</output>
      <button type="button" onClick={() => setValue('')}>
        reset
      </button>
    </>
  );
}

const field = () => screen.getByTestId<HTMLInputElement>('d');
const value = () => screen.getByTestId('value').textContent;

describe('DateField', () => {
  it('shows a pt-BR date day first, as a labelled text field with the language’s placeholder', async () => {
    await i18n.changeLanguage('pt-BR');
    render(<Form initial="2026-12-05" />);
    const input = screen.getByLabelText('Date');
    expect(input).toBe(field());
    expect(input).toHaveValue('05/12/2026');
    expect(input).toHaveAttribute('type', 'text');
    expect(input).toHaveAttribute('inputmode', 'numeric');
    expect(input).toHaveAttribute('placeholder', 'dd/mm/aaaa');
    expect(input).toHaveAttribute('aria-describedby', messageId('d'));
    expect(input).toHaveAccessibleDescription('A hint');
  });

  it('hands the form the ISO value of what is typed in pt-BR, and accepts ISO too', async () => {
    await i18n.changeLanguage('pt-BR');
    const user = userEvent.setup();
    render(<Form />);
    await user.type(field(), '05/12/2026');
    expect(value()).toBe('2026-12-05');
    await user.clear(field());
    expect(value()).toBe('');
    await user.type(field(), '2025-03-01');
    expect(value()).toBe('2025-03-01');
    expect(field()).toHaveValue('2025-03-01');
    await user.tab();
    // Rewritten in the language's format once the user leaves the field.
    expect(field()).toHaveValue('01/03/2025');
    expect(value()).toBe('2025-03-01');
  });

  it('says under the field when the date does not exist, and hands no ISO value over', async () => {
    await i18n.changeLanguage('pt-BR');
    const user = userEvent.setup();
    const seen = vi.fn();
    render(<Form seen={seen} />);
    await user.type(field(), '31/02/2026');
    // Nothing said while typing.
    expect(field()).not.toHaveAttribute('aria-invalid');
    await user.tab();
    expect(field()).toHaveAttribute('aria-invalid', 'true');
    expect(field()).toHaveAccessibleDescription(
      'Esta não é uma data válida. Digite no formato dd/mm/aaaa, por exemplo 31/01/2026.',
    );
    expect(document.getElementById(messageId('d'))).toHaveClass('field-error');
    expect(value()).toBe('31/02/2026');
    expect(seen.mock.calls.flat().some((v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v))).toBe(false);
    // Fixed: the message goes, the value is a date again.
    await user.clear(field());
    await user.type(field(), '28/02/2026');
    expect(field()).not.toHaveAttribute('aria-invalid');
    expect(value()).toBe('2026-02-28');
  });

  it('refuses letters, in Spanish', async () => {
    await i18n.changeLanguage('es');
    const user = userEvent.setup();
    render(<Form />);
    await user.type(field(), 'ayer{Enter}');
    expect(field()).toHaveAccessibleDescription(
      'Esta no es una fecha válida. Escríbala como dd/mm/aaaa, por ejemplo 31/01/2026.',
    );
  });

  it('takes a date and a 24-hour time in es, and ISO from fireEvent as a native input did', async () => {
    await i18n.changeLanguage('es');
    const user = userEvent.setup();
    render(<Form withTime />);
    expect(field()).toHaveAttribute('placeholder', 'dd/mm/aaaa hh:mm');
    await user.type(field(), '05/12/2026 14:30');
    expect(value()).toBe('2026-12-05T14:30');
    fireEvent.change(field(), { target: { value: '2025-01-15T08:30' } });
    expect(value()).toBe('2025-01-15T08:30');
    fireEvent.blur(field());
    expect(field()).toHaveValue('15/01/2025 08:30');
  });

  it('uses year-month-day in English and rewrites the text when the language changes', async () => {
    render(<Form initial="2026-12-05" />);
    expect(field()).toHaveValue('2026-12-05');
    expect(field()).toHaveAttribute('placeholder', 'yyyy-mm-dd');
    await act(async () => {
      await i18n.changeLanguage('pt-BR');
    });
    expect(field()).toHaveValue('05/12/2026');
    expect(field()).toHaveAttribute('placeholder', 'dd/mm/aaaa');
    expect(value()).toBe('2026-12-05');
  });

  it('follows the form when it changes the value', async () => {
    const user = userEvent.setup();
    render(<Form initial="2026-12-05" />);
    await user.click(screen.getByText('reset'));
    expect(field()).toHaveValue('');
  });
});

describe('date fields on the screens, in pt-BR', () => {
  beforeEach(() => {
    resetApiMocks(mocked);
  });

  it('the rewind dialog shows 05/12/2026 for 2026-12-05 and sends the ISO date', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.syncRewind.mockResolvedValue({
      resource: 'clientes',
      to: '2026-12-05',
      stored_records: 10,
      estimated_refetch: 3,
      whole_resource: false,
      applied: false,
    });
    const user = userEvent.setup();
    render(
      <RewindDialog
        connection={connection()}
        summary={resourceSummary({ last_success_at: '2026-12-05T15:00:00Z' })}
        onClose={() => {}}
        onDone={() => {}}
      />,
    );
    expect(screen.getByTestId('rewind-date')).toHaveValue('05/12/2026');
    expect(screen.getByLabelText('Ler de novo a partir de')).toBe(screen.getByTestId('rewind-date'));
    await user.click(screen.getByTestId('rewind-preview'));
    expect(mocked.syncRewind).toHaveBeenLastCalledWith('c1', 'clientes', '2026-12-05', false);
  });

  it('the sync panel reads “Só mudanças desde” day first', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.syncStart.mockResolvedValue(job({ id: 's1', kind: 'sync_omie', status: 'queued', finished_at: null }));
    const user = userEvent.setup();
    render(<SyncPanel connection={connection()} resources={[]} job={null} onJob={() => {}} />);
    const since = screen.getByLabelText('Só mudanças desde (opcional)');
    expect(since).toHaveAttribute('placeholder', 'dd/mm/aaaa hh:mm');
    await user.type(since, '12/05/2026 08:30');
    await user.click(screen.getByTestId('sync-now'));
    // 12 May, not 5 December.
    expect(mocked.syncStart).toHaveBeenCalledWith('c1', expect.objectContaining({ since: new Date(2026, 4, 12, 8, 30).toISOString() }));
  });

  it('the sync panel sends nothing while “Só mudanças desde” is not a date', async () => {
    await i18n.changeLanguage('pt-BR');
    const user = userEvent.setup();
    render(<SyncPanel connection={connection()} resources={[]} job={null} onJob={() => {}} />);
    await user.type(screen.getByTestId('sync-since'), '31/02/2026 08:30');
    expect(screen.getByTestId('sync-now')).toBeDisabled();
    await user.tab();
    expect(screen.getByTestId('sync-since')).toHaveAccessibleDescription(
      'Esta não é uma data e hora válida. Digite no formato dd/mm/aaaa hh:mm (relógio de 24 horas), por exemplo 31/01/2026 14:30.',
    );
    expect(mocked.syncStart).not.toHaveBeenCalled();
  });
});
