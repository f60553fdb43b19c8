import { describe, expect, it } from 'vitest';

import { ERROR_CODES } from '../errors';
import { dictionaries as assembled } from '.';

const { en, es, 'pt-BR': ptBR } = assembled;

type Tree = { readonly [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const dictionaries = { en: flatten(en), es: flatten(es), 'pt-BR': flatten(ptBR) };
const placeholders = (s: string) => Array.from(s.matchAll(/{{\s*(\w+)\s*}}/g), (m) => m[1]).sort();

describe('dictionaries', () => {
  it('have identical key sets in the three languages', () => {
    const keys = [...dictionaries.en.keys()].sort();
    expect(keys.length).toBeGreaterThan(100);
    expect([...dictionaries.es.keys()].sort()).toEqual(keys);
    expect([...dictionaries['pt-BR'].keys()].sort()).toEqual(keys);
  });

  it('have a text for every error code the core sends, in every language', () => {
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const code of ERROR_CODES) {
        const text = dict.get(`errors.${code}`);
        expect(text, `${lang} errors.${code}`).toBeTruthy();
      }
    }
  });

  it('name the connection in every error that concerns one', () => {
    const withConnection = ERROR_CODES.filter((c) => placeholders(en.errors[c]).includes('connection'));
    expect(withConnection).toEqual(
      expect.arrayContaining(['unauthorized', 'unreachable', 'timeout', 'missing_credentials', 'http', 'remote']),
    );
  });

  it('use the same placeholders as English', () => {
    for (const [key, text] of dictionaries.en) {
      for (const lang of ['es', 'pt-BR'] as const) {
        expect(placeholders(dictionaries[lang].get(key) ?? ''), `${lang} ${key}`).toEqual(placeholders(text));
      }
    }
  });

  it('have no empty texts', () => {
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const [key, text] of dict) expect(text.trim(), `${lang} ${key}`).not.toBe('');
    }
  });
});
