// The app's window runs with Tauri's `"freezePrototype": true` (tauri.conf.json): Object.prototype
// is frozen before any of our code runs. Code that assigns `valueOf`/`toString` on an object
// inheriting from it then throws (recharts did, through decimal.js-light; d3-color does too), and
// the dashboard could not draw. Here the prototype is frozen as in the app before the chart and the
// card are loaded. Vitest runs each test file in its own context, so the freeze stays in this file.
import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

Object.freeze(Object.prototype);

describe('with a frozen Object.prototype (Tauri freezePrototype)', () => {
  it('is really frozen here', () => {
    expect(Object.isFrozen(Object.prototype)).toBe(true);
    // What decimal.js-light does to its prototype (an object inheriting from Object.prototype).
    expect(() => {
      const proto: { valueOf(): unknown } = Object.create(Object.prototype);
      proto.valueOf = () => 1;
    }).toThrow(TypeError);
  });

  it('the activity chart draws its 30 days, with its summary and tooltip, in Portuguese', async () => {
    const { default: i18n } = await import('../../i18n');
    const { activityDays } = await import('../../test/fixtures');
    const { ActivityChart } = await import('./ActivityChart');
    await i18n.changeLanguage('pt-BR');
    const days = activityDays('2025-12-05', (_, i) => ({ changed: 1000 + i, runs: 1, failed: i === 3 ? 1 : 0, longest_seconds: 30 + i }));
    render(<ActivityChart days={days} />);
    const chart = screen.getByRole('img');
    expect(chart).toHaveAttribute('aria-label', expect.stringContaining('Registros alterados por dia nos últimos 30 dias: 30.435 no total.'));
    expect(chart).toHaveAttribute('aria-label', expect.stringContaining('30 sincronizações. Falhas em 1 dia.'));
    expect(document.querySelectorAll('.activity-bar')).toHaveLength(30);
    expect(document.querySelectorAll('.activity-bar-failed')).toHaveLength(1);
    fireEvent.focus(chart);
    fireEvent.keyDown(chart, { key: 'End' });
    expect(screen.getByTestId('activity-tip')).toHaveTextContent('05/12');
    expect(screen.getByTestId('activity-tip')).toHaveTextContent('Registros alterados1.029');
  });

  it('a connection card draws with its chart', async () => {
    const { default: i18n } = await import('../../i18n');
    const { activityDays, connectionCard } = await import('../../test/fixtures');
    const { ConnectionCard } = await import('./ConnectionCard');
    await i18n.changeLanguage('pt-BR');
    const days = activityDays('2025-12-05', (_, i) => ({ changed: i * 10, runs: i % 2, longest_seconds: 20 }));
    render(<ConnectionCard card={connectionCard({ days })} liveJob={null} now={Date.parse('2025-12-05T12:00:00Z')} onJob={() => {}} />);
    const card = screen.getByTestId('connection-card');
    expect(within(card).getByRole('img')).toHaveAttribute('aria-label', expect.stringContaining('Registros alterados por dia'));
    expect(card.querySelectorAll('.activity-bar')).toHaveLength(30);
    expect(card).toHaveTextContent('Últimos 30 dias');
  });
});
