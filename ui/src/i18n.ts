// i18next set-up: three bundled dictionaries, no remote loading.
import i18next, { type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';

import { normalizeLocale, type AppLocale } from './format';
import { dictionaries } from './locales';

// One namespace per language, assembled from locales/<lang>/*.json (see locales/index.ts).
export const resources = {
  en: { translation: dictionaries.en },
  es: { translation: dictionaries.es },
  'pt-BR': { translation: dictionaries['pt-BR'] },
} as const;

/** Initialises the shared i18next instance in `locale` (any tag; normalised to pt-BR/es/en). */
export function initI18n(locale: string | null | undefined, instance: I18n = i18next): I18n {
  const lng = normalizeLocale(locale);
  if (!instance.isInitialized) {
    void instance.use(initReactI18next).init({
      resources,
      lng,
      fallbackLng: 'en',
      supportedLngs: ['en', 'es', 'pt-BR'],
      // React already escapes what it renders.
      interpolation: { escapeValue: false },
      returnNull: false,
      initAsync: false,
      showSupportNotice: false,
    });
  } else if (instance.language !== lng) {
    void instance.changeLanguage(lng);
  }
  setDocumentLang(lng);
  return instance;
}

/** Switches the language of the whole UI at once. */
export async function setLanguage(locale: string, instance: I18n = i18next): Promise<AppLocale> {
  const lng = normalizeLocale(locale);
  await instance.changeLanguage(lng);
  setDocumentLang(lng);
  return lng;
}

function setDocumentLang(lng: AppLocale): void {
  if (typeof document !== 'undefined') document.documentElement.lang = lng;
}

export default i18next;
