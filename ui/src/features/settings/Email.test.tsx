import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as apiEmail from './emailApi';
import type { EmailSettings } from '../../bindings/EmailSettings';
import i18n from '../../i18n';
import { EmailSettingsCard, splitRecipients, validateEmailForm, type EmailFormValues } from './Email';

vi.mock('./emailApi', () => ({
  emailSettings: vi.fn(),
  saveEmailSettings: vi.fn(),
  sendTestEmail: vi.fn(),
}));
const mocked = vi.mocked(apiEmail);

function settings(over: Partial<EmailSettings> = {}): EmailSettings {
  return {
    enabled: true,
    host: 'smtp.example.test',
    port: 587,
    security: 'starttls',
    username: 'mailer',
    from: 'BackOffice <bo@example.test>',
    to: ['finance@example.test'],
    password_saved: true,
    last_failure: null,
    ...over,
  };
}

const form = (over: Partial<EmailFormValues> = {}): EmailFormValues => ({
  enabled: true,
  host: 'smtp.example.test',
  port: '587',
  security: 'starttls',
  username: 'mailer',
  password: '',
  from: 'bo@example.test',
  to: 'a@example.test',
  ...over,
});

beforeEach(() => {
  vi.resetAllMocks();
  mocked.saveEmailSettings.mockImplementation(async (s) => ({ ...s, password_saved: true, last_failure: null }));
});

describe('validateEmailForm', () => {
  it('splits recipients on commas and lines and keeps an empty password as "keep"', () => {
    expect(splitRecipients(' a@x.test,\nB <b@x.test> ;\n\n')).toEqual(['a@x.test', 'B <b@x.test>']);
    const v = validateEmailForm(form({ to: 'a@x.test, b@x.test' }));
    expect(v.ok && v.settings.to).toEqual(['a@x.test', 'b@x.test']);
    expect(v.ok && v.password).toBeNull();
    expect(v.ok && v.settings.port).toBe(587);
  });

  it('names each wrong field', () => {
    const v = validateEmailForm(
      form({ host: 'smtp.example.test:587', port: '70000', from: 'nobody', to: 'ok@x.test, broken@' }),
    );
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.host?.key).toBe('hostInvalid');
    expect(v.errors.port?.key).toBe('portInvalid');
    expect(v.errors.from?.key).toBe('fromInvalid');
    expect(v.errors.to).toEqual({ key: 'toInvalid', values: { address: 'broken@' } });
    const none = validateEmailForm(form({ security: 'none' }));
    expect(!none.ok && none.errors.security?.key).toBe('noneNotLocal');
    expect(validateEmailForm(form({ security: 'none', host: 'localhost' })).ok).toBe(true);
    const noRecipients = validateEmailForm(form({ to: '' }));
    expect(!noRecipients.ok && noRecipients.errors.to?.key).toBe('toRequired');
    expect(validateEmailForm(form({ to: '', enabled: false })).ok).toBe(true);
  });
});

describe('Settings → E-mail notifications', () => {
  it('loads, keeps the saved password when the field stays empty, and sends a typed one once', async () => {
    mocked.emailSettings.mockResolvedValue(settings());
    const user = userEvent.setup();
    render(<EmailSettingsCard />);
    const card = await screen.findByTestId('email-settings');
    await waitFor(() => expect(within(card).getByTestId('email-host')).toHaveValue('smtp.example.test'));
    expect(within(card).getByTestId('email-password')).toHaveValue('');
    expect(within(card).getByTestId('email-password-state')).toHaveTextContent('saved in the system keychain');

    await user.clear(within(card).getByTestId('email-to'));
    await user.type(within(card).getByTestId('email-to'), 'a@example.test, b@example.test');
    await user.click(within(card).getByTestId('email-save'));
    await waitFor(() => expect(mocked.saveEmailSettings).toHaveBeenCalledTimes(1));
    expect(mocked.saveEmailSettings.mock.calls[0]).toEqual([
      expect.objectContaining({ host: 'smtp.example.test', port: 587, to: ['a@example.test', 'b@example.test'] }),
      null,
    ]);
    expect(await within(card).findByTestId('email-saved')).toHaveTextContent('Saved');

    await user.type(within(card).getByTestId('email-password'), 'made-up-pw');
    await user.click(within(card).getByTestId('email-save'));
    await waitFor(() => expect(mocked.saveEmailSettings).toHaveBeenCalledTimes(2));
    expect(mocked.saveEmailSettings.mock.calls[1]![1]).toBe('made-up-pw');
    await waitFor(() => expect(within(card).getByTestId('email-password')).toHaveValue(''));
  });

  it('shows validation errors in the user’s language and does not save', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.emailSettings.mockResolvedValue(settings());
    const user = userEvent.setup();
    render(<EmailSettingsCard />);
    const card = await screen.findByTestId('email-settings');
    await waitFor(() => expect(within(card).getByTestId('email-host')).toHaveValue('smtp.example.test'));
    await user.clear(within(card).getByTestId('email-host'));
    await user.clear(within(card).getByTestId('email-port'));
    await user.type(within(card).getByTestId('email-port'), '0');
    await user.clear(within(card).getByTestId('email-to'));
    await user.type(within(card).getByTestId('email-to'), 'sem-arroba');
    await user.click(within(card).getByTestId('email-save'));
    expect(await within(card).findByTestId('email-error-host')).toHaveTextContent('Informe o servidor de e-mail');
    expect(within(card).getByTestId('email-error-port')).toHaveTextContent('Use um número de 1 a 65535');
    expect(within(card).getByTestId('email-error-to')).toHaveTextContent('“sem-arroba” não é um endereço de e-mail.');
    expect(mocked.saveEmailSettings).not.toHaveBeenCalled();
  });

  it('sends a test e-mail after saving and explains a refused password naming the server', async () => {
    mocked.emailSettings.mockResolvedValue(settings());
    mocked.sendTestEmail.mockResolvedValueOnce(undefined);
    const user = userEvent.setup();
    render(<EmailSettingsCard />);
    const card = await screen.findByTestId('email-settings');
    await waitFor(() => expect(within(card).getByTestId('email-host')).toHaveValue('smtp.example.test'));

    await user.click(within(card).getByTestId('email-test'));
    expect(await within(card).findByTestId('email-test-ok')).toHaveTextContent(
      'Test e-mail sent to finance@example.test.',
    );
    expect(mocked.saveEmailSettings).toHaveBeenCalledTimes(1);
    expect(mocked.sendTestEmail).toHaveBeenCalledTimes(1);

    mocked.sendTestEmail.mockRejectedValueOnce({
      code: 'unauthorized',
      message: 'The e-mail server smtp.example.test:587 refused the user name or password.',
      params: { server: 'smtp.example.test:587', connection: 'smtp.example.test:587', url: 'smtp.example.test:587' },
      details: '535 5.7.8',
    });
    await user.click(within(card).getByTestId('email-test'));
    const failed = await within(card).findByTestId('email-test-failed');
    expect(failed).toHaveTextContent(
      'The mail server smtp.example.test:587 refused the user name or password. Check both (some providers need an app password).',
    );
    expect(failed).toHaveAttribute('data-code', 'unauthorized');
  });

  it('shows the last failed delivery and can remove the saved password', async () => {
    mocked.emailSettings.mockResolvedValue(
      settings({
        last_failure: {
          at: '2025-03-01T12:00:00.000Z',
          code: 'unreachable',
          message: 'Could not reach the e-mail server smtp.example.test:587.',
        },
      }),
    );
    mocked.saveEmailSettings.mockImplementation(async (s, pw) => ({ ...s, password_saved: pw !== '', last_failure: null }));
    const user = userEvent.setup();
    render(<EmailSettingsCard />);
    const card = await screen.findByTestId('email-settings');
    expect(await within(card).findByTestId('email-last-failure')).toHaveTextContent(
      'Last e-mail failed (',
    );
    expect(within(card).getByTestId('email-last-failure')).toHaveTextContent(
      'Could not reach the mail server smtp.example.test:587.',
    );
    await user.click(within(card).getByTestId('email-remove-password'));
    await waitFor(() => expect(mocked.saveEmailSettings).toHaveBeenCalledWith(expect.anything(), ''));
    await waitFor(() =>
      expect(within(card).getByTestId('email-password-state')).toHaveTextContent('No password saved.'),
    );
  });
});

describe('email dictionaries', () => {
  it('have the same keys and placeholders in the three languages', async () => {
    const { default: emailEn } = await import('../../locales/en/email.json');
    const { default: emailEs } = await import('../../locales/es/email.json');
    const { default: emailPtBR } = await import('../../locales/pt-BR/email.json');
    type Tree = { readonly [k: string]: string | Tree };
    const flat = (t: Tree, p = ''): Record<string, string> =>
      Object.entries(t).reduce<Record<string, string>>((acc, [k, v]) => {
        const key = p ? `${p}.${k}` : k;
        return typeof v === 'string' ? { ...acc, [key]: v } : { ...acc, ...flat(v, key) };
      }, {});
    const holes = (s: string) => Array.from(s.matchAll(/{{\s*(\w+)\s*}}/g), (m) => m[1]).sort();
    const en = flat(emailEn);
    for (const other of [flat(emailEs), flat(emailPtBR)]) {
      expect(Object.keys(other).sort()).toEqual(Object.keys(en).sort());
      for (const [k, v] of Object.entries(en)) {
        expect(holes(other[k]!), k).toEqual(holes(v));
        expect(other[k]!.trim(), k).not.toBe('');
      }
    }
  });
});
