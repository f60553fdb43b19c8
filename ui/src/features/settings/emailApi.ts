// Typed wrappers for the e-mail notification commands. They go through `call` from api/index.ts, so they
// reject with an ApiError like every other command. The password is sent, never received.
import { call } from '../../api';
import type { EmailSettings } from '../../bindings/EmailSettings';

// `async` so that anything `call` throws synchronously still arrives as a rejected promise.

export const emailSettings = async (): Promise<EmailSettings> => call('email_settings');

/** `password`: null keeps the saved one, '' removes it, anything else replaces it (keychain only). */
export const saveEmailSettings = async (settings: EmailSettings, password: string | null): Promise<EmailSettings> =>
  call('save_email_settings', { settings, password });

/** Sends a test e-mail with the saved settings; rejects with a plain ApiError naming the server. */
export const sendTestEmail = async (): Promise<void> => {
  await call('send_test_email');
};
