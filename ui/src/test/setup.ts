import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

import i18n, { initI18n } from '../i18n';

initI18n('en');

afterEach(async () => {
  cleanup();
  window.location.hash = '';
  if (i18n.language !== 'en') await i18n.changeLanguage('en');
});
