// Every text of the UI: locales/<lang>/<namespace>.json for en, es and pt-BR. One i18next namespace
// is assembled from the files, each under its own key (app.json's keys at the top level), so
// `t('omie.x')` reads omie.json, `t('divergences.x')` divergences.json and `t('contracts.x')`
// contracts.json. errors, omieErrors, jobKinds and jobLog are also read by the core
// (crates/core/src/i18n.rs), so a notification says what the window says.
//
// es and pt-BR must have exactly the keys of en: `sameKeys` makes an extra or a missing key a type
// error, and dictionaries.test.ts checks key sets and {{placeholders}} at run time.
import enApp from './en/app.json';
import enContracts from './en/contracts.json';
import enDivergences from './en/divergences.json';
import enEmail from './en/email.json';
import enErpnext from './en/erpnext.json';
import enErrors from './en/errors.json';
import enJobKinds from './en/jobKinds.json';
import enJobLog from './en/jobLog.json';
import enOmie from './en/omie.json';
import enOmieErrors from './en/omieErrors.json';
import esApp from './es/app.json';
import esContracts from './es/contracts.json';
import esDivergences from './es/divergences.json';
import esEmail from './es/email.json';
import esErpnext from './es/erpnext.json';
import esErrors from './es/errors.json';
import esJobKinds from './es/jobKinds.json';
import esJobLog from './es/jobLog.json';
import esOmie from './es/omie.json';
import esOmieErrors from './es/omieErrors.json';
import ptBRApp from './pt-BR/app.json';
import ptBRContracts from './pt-BR/contracts.json';
import ptBRDivergences from './pt-BR/divergences.json';
import ptBREmail from './pt-BR/email.json';
import ptBRErpnext from './pt-BR/erpnext.json';
import ptBRErrors from './pt-BR/errors.json';
import ptBRJobKinds from './pt-BR/jobKinds.json';
import ptBRJobLog from './pt-BR/jobLog.json';
import ptBROmie from './pt-BR/omie.json';
import ptBROmieErrors from './pt-BR/omieErrors.json';

/** The keys of `T` at every depth, each with some text. */
type Shape<T> = { readonly [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };
/** `U` when it has exactly the keys of `T` at every depth: an extra key is `never`, a missing one is required by `Shape`. */
type Exactly<T, U> = Shape<T> & { readonly [K in keyof U]: K extends keyof T ? (T[K] extends string ? string : Exactly<T[K], U[K]>) : never };

const en = {
  app: enApp,
  omie: enOmie,
  omieErrors: enOmieErrors,
  erpnext: enErpnext,
  divergences: enDivergences,
  contracts: enContracts,
  email: enEmail,
  jobKinds: enJobKinds,
  errors: enErrors,
  jobLog: enJobLog,
};
type Files = typeof en;

/** A language's files, checked against English's. */
const sameKeys = <U extends Exactly<Files, U>>(files: U): Files => files as Files;

const es = sameKeys({
  app: esApp,
  omie: esOmie,
  omieErrors: esOmieErrors,
  erpnext: esErpnext,
  divergences: esDivergences,
  contracts: esContracts,
  email: esEmail,
  jobKinds: esJobKinds,
  errors: esErrors,
  jobLog: esJobLog,
});
const ptBR = sameKeys({
  app: ptBRApp,
  omie: ptBROmie,
  omieErrors: ptBROmieErrors,
  erpnext: ptBRErpnext,
  divergences: ptBRDivergences,
  contracts: ptBRContracts,
  email: ptBREmail,
  jobKinds: ptBRJobKinds,
  errors: ptBRErrors,
  jobLog: ptBRJobLog,
});

/** One language's dictionary: app.json at the top, every other file under its name (omieErrors as `omie.errors`). */
function assemble(f: Files) {
  return {
    ...f.app,
    omie: { ...f.omie, errors: f.omieErrors },
    erpnext: f.erpnext,
    divergences: f.divergences,
    contracts: f.contracts,
    email: f.email,
    jobKinds: f.jobKinds,
    errors: f.errors,
    jobLog: f.jobLog,
  };
}

/** The dictionary of each app locale. */
export const dictionaries = { en: assemble(en), es: assemble(es), 'pt-BR': assemble(ptBR) } as const;
