import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { App } from '../../App';
import type { Schedule } from '../../bindings/Schedule';
import type { ScheduleRunRecord } from '../../bindings/ScheduleRunRecord';
import i18n from '../../i18n';
import { appInfo, connection, dashboardSummary, job } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { renderWithInfo } from '../../test/render';
import { DashboardPage } from '../dashboard/DashboardPage';
import { SettingsPage } from '../settings/SettingsPage';
import { describeTiming, emptyScheduleForm, validateScheduleForm, type ScheduleFormValues } from './model';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const info = appInfo();

function schedule(over: Partial<Schedule> = {}): Schedule {
  return {
    id: 's1',
    name: 'Omie sync: Matriz',
    kind: 'sync_omie',
    connection_id: 'c1',
    connection_name: 'Matriz São Paulo',
    params: null,
    cron: null,
    timezone: null,
    every_minutes: 60,
    enabled: true,
    catch_up_minutes: 720,
    anchor_at: '2025-03-01T12:00:00.000Z',
    handled_until: '2025-03-01T12:00:00.000Z',
    last_run_at: null,
    last_job_id: null,
    next_due_at: '2025-03-01T13:00:00.000Z',
    last_outcome: null,
    default_key: null,
    created_at: '2025-03-01T12:00:00.000Z',
    updated_at: '2025-03-01T12:00:00.000Z',
    ...over,
  };
}

function run(over: Partial<ScheduleRunRecord> = {}): ScheduleRunRecord {
  return {
    id: 1,
    schedule_id: 's1',
    schedule_name: 'Omie sync: Matriz',
    kind: 'sync_omie',
    connection_id: 'c1',
    trigger: 'schedule',
    due_at: '2025-03-01T13:00:00.000Z',
    started_at: '2025-03-01T13:00:00.500Z',
    outcome: 'started',
    job_id: 'j9',
    reason: null,
    job_status: 'succeeded',
    job_finished_at: '2025-03-01T13:02:00.000Z',
    counts: { records: 120 },
    job_error: null,
    ...over,
  };
}

const hourly = schedule();
const weekdays = schedule({
  id: 's2',
  name: 'Weekday order closing',
  kind: 'omie_po_close_scan',
  connection_id: 'c1',
  connection_name: 'Matriz São Paulo',
  cron: '0 7 * * 1-5',
  timezone: 'America/Sao_Paulo',
  every_minutes: null,
  enabled: false,
  next_due_at: null,
  last_run_at: '2025-03-01T10:00:00.000Z',
  last_job_id: 'j7',
  last_outcome: 'skipped_overlap',
});

const omie = connection({ id: 'c1', name: 'Matriz São Paulo', kind: 'omie' });
const quito = connection({ id: 'c2', name: 'Quito', kind: 'contifico', timezone: 'America/Guayaquil' });

beforeEach(() => {
  resetApiMocks(mocked);
  mocked.listSchedules.mockResolvedValue([hourly, weekdays]);
  mocked.schedulesPaused.mockResolvedValue(false);
  mocked.scheduleHistory.mockResolvedValue([]);
  mocked.listConnections.mockResolvedValue([omie, quito]);
  mocked.listJobs.mockResolvedValue([]);
  window.location.hash = '#/jobs/schedules';
});

async function renderSchedules() {
  render(<App initialInfo={info} />);
  await waitFor(() => expect(screen.getAllByTestId('schedule-row')).toHaveLength(2));
  return screen.getAllByTestId('schedule-row');
}

describe('Schedules list', () => {
  it('is a tab of Jobs & Logs', async () => {
    window.location.hash = '#/jobs';
    const user = userEvent.setup();
    render(<App initialInfo={info} />);
    await user.click(await screen.findByTestId('jobs-tab-schedules'));
    expect(await screen.findByTestId('page-schedules')).toBeInTheDocument();
    expect(window.location.hash).toBe('#/jobs/schedules');
    await user.click(screen.getByTestId('jobs-tab-list'));
    expect(await screen.findByTestId('page-jobs')).toBeInTheDocument();
  });

  it('shows each schedule with its job, connection and timing in words', async () => {
    const [first, second] = await renderSchedules();
    expect(first).toHaveAttribute('data-name', 'Omie sync: Matriz');
    expect(first).toHaveAttribute('data-enabled', 'true');
    expect(first).toHaveTextContent('Omie sync');
    expect(first).toHaveTextContent('Matriz São Paulo');
    expect(within(first!).getByTestId('schedule-when')).toHaveTextContent('every hour');
    expect(within(first!).getByTestId('schedule-next')).toBeInTheDocument();
    expect(first).toHaveTextContent('Not run yet');

    expect(second).toHaveAttribute('data-enabled', 'false');
    expect(within(second!).getByTestId('schedule-when')).toHaveTextContent('weekdays at 07:00 (America/Sao_Paulo)');
    expect(second).toHaveTextContent('Matriz São Paulo');
    expect(second).toHaveTextContent('Paused');
    expect(within(second!).getByTestId('schedule-last-job')).toHaveAttribute('href', '#/jobs/j7');
    expect(within(second!).getByText('Skipped: still running')).toHaveAttribute('data-outcome', 'skipped_overlap');
  });

  it('pauses an enabled schedule and resumes a paused one from the toggle', async () => {
    mocked.pauseSchedule.mockResolvedValue({ ...hourly, enabled: false, next_due_at: null });
    mocked.resumeSchedule.mockResolvedValue({ ...weekdays, enabled: true, next_due_at: '2025-03-03T10:00:00.000Z' });
    const user = userEvent.setup();
    const [first, second] = await renderSchedules();

    await user.click(within(first!).getByTestId('schedule-toggle'));
    expect(mocked.pauseSchedule).toHaveBeenCalledWith('s1');
    await waitFor(() => expect(screen.getAllByTestId('schedule-row')[0]).toHaveAttribute('data-enabled', 'false'));

    await user.click(within(second!).getByTestId('schedule-toggle'));
    expect(mocked.resumeSchedule).toHaveBeenCalledWith('s2');
    await waitFor(() => expect(screen.getAllByTestId('schedule-row')[1]).toHaveAttribute('data-enabled', 'true'));
    expect(mocked.pauseSchedule).toHaveBeenCalledTimes(1);
    expect(mocked.resumeSchedule).toHaveBeenCalledTimes(1);
  });

  it('pauses and resumes every schedule with a banner while paused', async () => {
    mocked.setSchedulesPaused.mockResolvedValue(null);
    const user = userEvent.setup();
    await renderSchedules();
    const button = screen.getByTestId('schedules-pause-all');
    expect(button).toHaveTextContent('Pause all schedules');

    mocked.schedulesPaused.mockResolvedValue(true);
    await user.click(button);
    expect(mocked.setSchedulesPaused).toHaveBeenCalledWith(true);
    const banner = await screen.findByTestId('schedules-paused-banner');
    expect(banner).toHaveTextContent('All schedules are paused');
    expect(within(banner).getByTestId('schedules-pause-all')).toHaveTextContent('Resume schedules');

    mocked.schedulesPaused.mockResolvedValue(false);
    await user.click(within(banner).getByTestId('schedules-pause-all'));
    expect(mocked.setSchedulesPaused).toHaveBeenLastCalledWith(false);
    await waitFor(() => expect(screen.queryByTestId('schedules-paused-banner')).not.toBeInTheDocument());
  });

  it('runs a schedule now and opens its job', async () => {
    mocked.runScheduleNow.mockResolvedValue(job({ id: 'j42', kind: 'sync_omie', status: 'queued' }));
    mocked.getJob.mockResolvedValue({ job: job({ id: 'j42', kind: 'sync_omie', status: 'queued' }), logs: [] });
    const user = userEvent.setup();
    const [first] = await renderSchedules();
    await user.click(within(first!).getByTestId('schedule-run-now'));
    expect(mocked.runScheduleNow).toHaveBeenCalledWith('s1');
    await waitFor(() => expect(window.location.hash).toBe('#/jobs/j42'));
    expect(await screen.findByTestId('job-detail')).toBeInTheDocument();
  });

  it('shows a translated error when a run cannot start', async () => {
    mocked.runScheduleNow.mockRejectedValue({
      code: 'job_already_running',
      message: 'x',
      params: { kind: 'sync_omie', target: 'Matriz São Paulo' },
      details: null,
    });
    const user = userEvent.setup();
    const [first] = await renderSchedules();
    await user.click(within(first!).getByTestId('schedule-run-now'));
    expect(await screen.findByRole('alert')).toHaveTextContent('A “Omie sync” job is already running for Matriz São Paulo.');
  });

  it('deletes a schedule after confirmation', async () => {
    mocked.removeSchedule.mockResolvedValue(null);
    const user = userEvent.setup();
    const [first] = await renderSchedules();
    await user.click(within(first!).getByTestId('schedule-delete'));
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent('Delete the schedule “Omie sync: Matriz”?');
    await user.click(within(dialog).getByTestId('confirm-accept'));
    expect(mocked.removeSchedule).toHaveBeenCalledWith('s1');
    await waitFor(() => expect(screen.getAllByTestId('schedule-row')).toHaveLength(1));
    expect(screen.getByTestId('schedules-notice')).toHaveTextContent('was deleted');
  });

  it('offers the default schedules of a connection', async () => {
    mocked.ensureDefaultSchedules.mockResolvedValueOnce([
      schedule({ id: 's3', name: 'Contífico sync: Quito', kind: 'sync_contifico', cron: '0 * * * *', every_minutes: null }),
    ]);
    mocked.ensureDefaultSchedules.mockResolvedValueOnce([]);
    const user = userEvent.setup();
    await renderSchedules();
    const buttons = screen.getAllByTestId('schedules-defaults');
    expect(buttons).toHaveLength(2);
    await user.click(buttons[1]!);
    expect(mocked.ensureDefaultSchedules).toHaveBeenCalledWith('c2');
    expect(await screen.findByTestId('schedules-notice')).toHaveTextContent('Schedules added (1): “Contífico sync: Quito”.');
    await user.click(screen.getAllByTestId('schedules-defaults')[1]!);
    await waitFor(() =>
      expect(screen.getByTestId('schedules-notice')).toHaveTextContent('its suggested schedules were already offered'),
    );
  });
});

describe('Schedule form', () => {
  const valid: ScheduleFormValues = {
    name: 'Hourly Omie',
    kind: 'sync_omie',
    connectionId: 'c1',
    mode: 'interval',
    everyMinutes: '60',
    cron: '',
    timezone: 'America/Sao_Paulo',
    catchUpMinutes: '720',
    enabled: true,
  };
  const errorsOf = (v: ScheduleFormValues) => {
    const r = validateScheduleForm(v);
    return r.ok ? {} : r.errors;
  };

  it('validates the interval, the cron expression and the connection', () => {
    expect(validateScheduleForm(valid)).toEqual({
      ok: true,
      input: {
        name: 'Hourly Omie',
        kind: 'sync_omie',
        connection_id: 'c1',
        params: null,
        cron: null,
        timezone: null,
        every_minutes: 60,
        enabled: true,
        catch_up_minutes: 720,
      },
    });
    expect(errorsOf({ ...valid, everyMinutes: '0' }).everyMinutes).toBe('schedules.validation.intervalInvalid');
    expect(errorsOf({ ...valid, everyMinutes: '2.5' }).everyMinutes).toBe('schedules.validation.intervalInvalid');
    expect(errorsOf({ ...valid, everyMinutes: '10081' }).everyMinutes).toBe('schedules.validation.intervalTooLong');
    expect(errorsOf({ ...valid, everyMinutes: '1' }).everyMinutes).toBeUndefined();
    expect(errorsOf({ ...valid, mode: 'cron', cron: '  ' }).cron).toBe('schedules.validation.cronRequired');
    expect(errorsOf({ ...valid, mode: 'cron', cron: '0 7 * *' }).cron).toBe('schedules.validation.cronFields');
    expect(errorsOf({ ...valid, mode: 'cron', everyMinutes: '0', cron: '0 7 * * 1-5' })).toEqual({});
    expect(errorsOf({ ...valid, connectionId: '' }).connectionId).toBe('schedules.validation.connectionRequired');
    expect(errorsOf({ ...valid, name: ' ' }).name).toBe('schedules.validation.nameRequired');
    expect(errorsOf({ ...valid, catchUpMinutes: '-5' }).catchUpMinutes).toBe('schedules.validation.catchUpInvalid');

    const cron = validateScheduleForm({ ...valid, mode: 'cron', cron: ' 0  7 * * 1-5 ' });
    expect(cron.ok && cron.input).toMatchObject({ cron: '0 7 * * 1-5', timezone: 'America/Sao_Paulo', every_minutes: null });
  });

  it('starts with a kind that fits the first connection', () => {
    expect(emptyScheduleForm([quito, omie])).toMatchObject({ kind: 'sync_contifico', connectionId: 'c2', timezone: 'America/Guayaquil' });
    expect(emptyScheduleForm([])).toMatchObject({ kind: 'sync_contifico', connectionId: '' });
  });

  it('explains mistakes before saving and saves a valid schedule', async () => {
    mocked.addSchedule.mockResolvedValue(schedule({ id: 's9', name: 'Quito hourly', kind: 'sync_contifico', connection_id: 'c2' }));
    const user = userEvent.setup();
    await renderSchedules();
    await user.click(screen.getByTestId('schedule-add'));
    const form = screen.getByTestId('schedule-form');

    // Connections are filtered by the job's ERP.
    await user.selectOptions(within(form).getByTestId('schedule-kind'), 'sync_omie');
    const options = within(within(form).getByTestId('schedule-connection')).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Matriz São Paulo — Omie']);
    await user.selectOptions(within(form).getByTestId('schedule-kind'), 'sync_contifico');
    expect(within(form).getByTestId('schedule-connection')).toHaveValue('c2');

    await user.click(within(form).getByTestId('schedule-save'));
    expect(within(form).getByTestId('form-error')).toHaveTextContent('Enter a name for the schedule.');

    await user.type(within(form).getByTestId('schedule-name'), 'Quito hourly');
    await user.clear(within(form).getByTestId('schedule-every'));
    await user.type(within(form).getByTestId('schedule-every'), '0');
    await user.click(within(form).getByTestId('schedule-save'));
    expect(within(form).getByTestId('schedule-error-everyMinutes')).toHaveTextContent('Enter a whole number of minutes, 1 or more.');

    await user.click(within(form).getByTestId('schedule-mode-cron'));
    await user.clear(within(form).getByTestId('schedule-cron'));
    await user.click(within(form).getByTestId('schedule-save'));
    expect(within(form).getByTestId('schedule-error-cron')).toHaveTextContent('Enter a cron expression');
    expect(mocked.addSchedule).not.toHaveBeenCalled();

    await user.type(within(form).getByTestId('schedule-cron'), '0 * * * *');
    expect(within(form).getByTestId('schedule-preview')).toHaveTextContent('Runs every hour');
    await user.click(within(form).getByTestId('schedule-save'));
    expect(mocked.addSchedule).toHaveBeenCalledWith({
      name: 'Quito hourly',
      kind: 'sync_contifico',
      connection_id: 'c2',
      params: null,
      cron: '0 * * * *',
      timezone: 'America/Guayaquil',
      every_minutes: null,
      enabled: true,
      catch_up_minutes: 720,
    });
    await waitFor(() => expect(screen.queryByTestId('schedule-form')).not.toBeInTheDocument());
    expect(screen.getByTestId('schedules-notice')).toHaveTextContent('“Quito hourly” was saved');
  });

  it('shows the core’s refusal translated, naming the field', async () => {
    mocked.updateSchedule.mockRejectedValue({
      code: 'invalid_input',
      message: 'invalid cron',
      params: { field: 'cron', reason: '"0 7 30 2 *" never occurs (for example 30 February); check the day and the month.' },
      details: null,
    });
    await i18n.changeLanguage('pt-BR');
    const user = userEvent.setup();
    await renderSchedules();
    await user.click(screen.getAllByTestId('schedule-edit')[1]!);
    const form = screen.getByTestId('schedule-form');
    expect(within(form).getByTestId('schedule-cron')).toHaveValue('0 7 * * 1-5');
    await user.clear(within(form).getByTestId('schedule-cron'));
    await user.type(within(form).getByTestId('schedule-cron'), '0 7 30 2 *');
    await user.click(within(form).getByTestId('schedule-save'));
    expect(mocked.updateSchedule).toHaveBeenCalledWith('s2', expect.objectContaining({ cron: '0 7 30 2 *', connection_id: 'c1' }));
    const error = await within(form).findByTestId('form-error');
    expect(error).toHaveTextContent('Expressão cron');
    expect(error).toHaveTextContent('a expressão não é válida ou nunca acontece');
    expect(error).toHaveTextContent('30 February');
  });
});

describe('Run history', () => {
  const runs = [
    run({ id: 4, outcome: 'failed_to_start', job_id: null, job_status: null, counts: {}, reason: 'The connection was deleted.' }),
    run({ id: 3, outcome: 'skipped_missed', job_id: null, job_status: null, counts: {}, reason: null }),
    run({ id: 2, outcome: 'skipped_overlap', job_id: null, job_status: null, counts: {}, reason: 'Job j8 was still running.' }),
    run({ id: 1, trigger: 'manual' }),
  ];

  it('shows each run with its translated outcome, trigger and job', async () => {
    mocked.scheduleHistory.mockResolvedValue(runs);
    await renderSchedules();
    const history = screen.getByTestId('schedule-history');
    await waitFor(() => expect(within(history).getAllByTestId('schedule-run')).toHaveLength(4));
    const rows = within(history).getAllByTestId('schedule-run');
    expect(rows.map((r) => r.getAttribute('data-outcome'))).toEqual(['failed_to_start', 'skipped_missed', 'skipped_overlap', 'started']);
    expect(rows[0]).toHaveTextContent('Could not start');
    expect(rows[0]).toHaveTextContent('The connection was deleted.');
    expect(rows[1]).toHaveTextContent('Missed');
    expect(rows[1]).toHaveTextContent('outside the catch-up window');
    expect(rows[2]).toHaveTextContent('Skipped: still running');
    expect(rows[3]).toHaveTextContent('Started');
    expect(rows[3]).toHaveTextContent('Run now');
    expect(rows[3]).toHaveTextContent('Succeeded');
    expect(rows[3]).toHaveTextContent('Records 120');
    expect(within(rows[3]!).getByTestId('schedule-run-job')).toHaveAttribute('href', '#/jobs/j9');
    expect(mocked.scheduleHistory).toHaveBeenCalledWith(null);
  });

  it('speaks the user’s language and filters by schedule', async () => {
    mocked.scheduleHistory.mockResolvedValue(runs);
    await i18n.changeLanguage('es');
    const user = userEvent.setup();
    await renderSchedules();
    const history = screen.getByTestId('schedule-history');
    await waitFor(() => expect(within(history).getAllByTestId('schedule-run')).toHaveLength(4));
    const rows = within(history).getAllByTestId('schedule-run');
    expect(rows[0]).toHaveTextContent('No pudo iniciar');
    expect(rows[1]).toHaveTextContent('Perdida');
    expect(rows[2]).toHaveTextContent('Omitida: seguía en curso');
    expect(rows[3]).toHaveTextContent('Iniciada');

    mocked.scheduleHistory.mockResolvedValue([]);
    await user.selectOptions(within(history).getByTestId('schedule-history-filter'), 's2');
    expect(mocked.scheduleHistory).toHaveBeenLastCalledWith('s2');
    await waitFor(() => expect(within(history).queryAllByTestId('schedule-run')).toHaveLength(0));
  });
});

describe('timing in words', () => {
  const t = i18n.getFixedT('en');
  const at = (cron: string, timezone = 'America/Sao_Paulo') => describeTiming({ cron, timezone, every_minutes: null }, t, 'en');
  const every = (n: number) => describeTiming({ cron: null, timezone: null, every_minutes: n }, t, 'en');

  it('reads common shapes and falls back to the expression', () => {
    expect(every(30)).toBe('every 30 minutes');
    expect(every(60)).toBe('every hour');
    expect(every(180)).toBe('every 3 hours');
    expect(every(1)).toBe('every minute');
    expect(at('0 * * * *')).toBe('every hour');
    expect(at('*/30 * * * *')).toBe('every 30 minutes');
    expect(at('10,40 * * * *')).toBe('every 30 minutes (at :10 and :40)');
    expect(at('0 7 * * 1-5')).toBe('weekdays at 07:00 (America/Sao_Paulo)');
    expect(at('0 7 * * *')).toBe('every day at 07:00 (America/Sao_Paulo)');
    expect(at('30 18 * * 1,3')).toBe('on Monday and Wednesday at 18:30 (America/Sao_Paulo)');
    expect(at('0 6 1 * *', 'UTC')).toBe('monthly on day 1 at 06:00 (UTC)');
    expect(at('0 7 * 1 *')).toBe('“0 7 * 1 *” (America/Sao_Paulo)');
    expect(describeTiming({ cron: '0 7 * * 1-5', timezone: 'America/Sao_Paulo', every_minutes: null }, i18n.getFixedT('pt-BR'), 'pt-BR')).toBe(
      'dias úteis às 07:00 (America/Sao_Paulo)',
    );
  });
});

describe('Settings → Notifications', () => {
  it('saves each checkbox at once', async () => {
    mocked.getSettings.mockResolvedValue({ locale: null });
    mocked.getNotificationSettings.mockResolvedValue({ job_failed: true, key_problem: false, daily_summary: false });
    mocked.saveNotificationSettings.mockImplementation(async (s) => s);
    const user = userEvent.setup();
    renderWithInfo(<SettingsPage />, info);
    const section = await screen.findByTestId('notification-settings');
    expect(section).toHaveTextContent('Notifications');
    await waitFor(() => expect(within(section).getByTestId('notify-job-failed')).toBeChecked());
    expect(within(section).getByTestId('notify-key-problem')).not.toBeChecked();

    await user.click(within(section).getByTestId('notify-key-problem'));
    expect(mocked.saveNotificationSettings).toHaveBeenCalledWith({ job_failed: true, key_problem: true, daily_summary: false });
    await waitFor(() => expect(within(section).getByTestId('notify-key-problem')).toBeChecked());
    expect(await within(section).findByRole('status')).toHaveTextContent('Saved');

    mocked.saveNotificationSettings.mockRejectedValueOnce({ code: 'db', message: 'x', params: {}, details: null });
    await user.click(within(section).getByTestId('notify-daily-summary'));
    expect(await within(section).findByRole('alert')).toHaveTextContent('could not read or write its local data');
    expect(within(section).getByTestId('notify-daily-summary')).not.toBeChecked();
  });
});

describe('Dashboard → Sync all now', () => {
  const summary = dashboardSummary({ connections: 3 });

  it('starts every sync and says how many began and why one did not', async () => {
    mocked.dashboard.mockResolvedValue(summary);
    mocked.syncAllNow.mockResolvedValue([job({ id: 'a', kind: 'sync_omie' }), job({ id: 'b', kind: 'sync_contifico' })]);
    const user = userEvent.setup();
    renderWithInfo(<DashboardPage />, info);
    await user.click(await screen.findByTestId('sync-all-now'));
    expect(mocked.syncAllNow).toHaveBeenCalledTimes(1);
    const result = await screen.findByTestId('sync-all-result');
    expect(result).toHaveAttribute('data-started', '2');
    expect(result).toHaveTextContent('Started 2 syncs.');
    expect(screen.getByTestId('sync-all-skipped')).toHaveTextContent(
      'Not started for 1 of 3 connections: a sync was already running there.',
    );
  });

  it('is not offered before there is a connection', async () => {
    mocked.dashboard.mockResolvedValue({ ...summary, connections: 0 });
    renderWithInfo(<DashboardPage />, info);
    expect(await screen.findByTestId('start-demo')).toBeInTheDocument();
    expect(screen.queryByTestId('sync-all-now')).not.toBeInTheDocument();
  });
});
