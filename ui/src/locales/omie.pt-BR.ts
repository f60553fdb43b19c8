import type { Dictionary } from './en';

export const omiePtBR: Dictionary['omie'] = {
  title: 'Omie',
};
