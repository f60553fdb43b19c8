import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import * as api from './api';
import { App } from './App';
import type { AppInfo } from './bindings/AppInfo';
import { initI18n } from './i18n';
import './styles.css';

// Ask the core for the locale first so the first paint is already in the user's language.
function boot(info: AppInfo | null): void {
  initI18n(info?.locale ?? navigator.language);
  const root = document.getElementById('root');
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <App initialInfo={info} />
    </StrictMode>,
  );
}

api.appInfo().then(boot, () => boot(null));
