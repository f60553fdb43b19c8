// Rendering a page outside App: inside the AppContext that carries the app's facts.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';

import { AppContext } from '../AppContext';
import type { AppInfo } from '../bindings/AppInfo';

/** Renders `ui` with `info` as the app's facts and `refreshInfo` as their re-read. */
export function renderWithInfo(ui: ReactElement, info: AppInfo, refreshInfo: () => Promise<void> = vi.fn(async () => {})) {
  return render(<AppContext.Provider value={{ info, refreshInfo }}>{ui}</AppContext.Provider>);
}
