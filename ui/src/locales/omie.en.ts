// English texts of the Omie page. omie.es.ts and omie.pt-BR.ts have exactly the same keys.
export const omieEn = {
  title: 'Omie',
} as const;
