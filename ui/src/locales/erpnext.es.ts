import type { Dictionary } from './en';

export const erpnextEs: Dictionary['erpnext'] = {
  title: 'ERPNext',
};
