import type { Dictionary } from './en';

export const erpnextPtBR: Dictionary['erpnext'] = {
  title: 'ERPNext',
};
