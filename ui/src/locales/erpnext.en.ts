// English texts of the ERPNext page. erpnext.es.ts and erpnext.pt-BR.ts have exactly the same keys.
export const erpnextEn = {
  title: 'ERPNext',
} as const;
