import type { Dictionary } from './en';

export const omieEs: Dictionary['omie'] = {
  title: 'Omie',
};
