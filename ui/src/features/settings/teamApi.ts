// Typed wrappers for Settings → Team database. They go through `call` from api/index.ts, so they
// reject with an ApiError like every other command. The password is sent, never received.
import { call } from '../../api';
import type { Job } from '../../bindings/Job';
import type { TeamDbCheck } from '../../bindings/TeamDbCheck';
import type { TeamDbSettings } from '../../bindings/TeamDbSettings';

export const teamSettings = async (): Promise<TeamDbSettings> => call('team_settings');

/** `password`: null keeps the saved one, '' removes it, anything else replaces it (keychain only). */
export const saveTeamSettings = async (settings: TeamDbSettings, password: string | null): Promise<TeamDbSettings> =>
  call('save_team_settings', { settings, password });

/** Connects with the saved settings; rejects with a plain ApiError (refused password, no server…). */
export const checkTeamDatabase = async (): Promise<TeamDbCheck> => call('check_team_database');

/** Where this desk works from now on: the team database (`on`) or its own file. The app restarts. */
export const setTeamMode = async (on: boolean): Promise<TeamDbSettings> => call('set_team_mode', { on });

/** Starts copying this desk's data into the team database (a job with progress). */
export const startTeamCopy = async (): Promise<Job> => call('start_team_copy');
