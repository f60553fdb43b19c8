import { createContext, useContext } from 'react';

import type { AppInfo } from './bindings/AppInfo';

export interface AppState {
  /** From `app_info`; null until it arrives (or if the engine could not be reached). */
  info: AppInfo | null;
  refreshInfo: () => Promise<void>;
}

export const AppContext = createContext<AppState>({ info: null, refreshInfo: async () => {} });

export function useApp(): AppState {
  return useContext(AppContext);
}
