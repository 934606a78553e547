// The pages' words in French and English (issue 11): message files per language and area under
// locales/<language>/<area>.json, read once at start into one i18next instance (i18next 26: the
// last line that runs on Node 20). Why i18next: plurals by CLDR rules ("1 user", "3 users",
// "0 utilisateur"), interpolation and namespaces per area, so each page's words live in its own
// file. Values are not HTML-escaped here: the templates escape everything they print (views.ts).
import fs from 'node:fs';
import path from 'node:path';
import i18next, { TFunction } from 'i18next';
import { Language } from '../accounts/person';

export const LANGUAGES: readonly Language[] = ['en', 'fr'];
export const isLanguage = (v: unknown): v is Language => typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);

export interface Translator {
  /** The translation function of one language ('common' is the default namespace: t('nav.users'), t('users:title')). */
  t(lang: Language): TFunction;
  /** The areas (namespaces) found on disk. */
  readonly namespaces: string[];
  /** Every key of every namespace, per language (test/unit/i18n.test.ts compares them). */
  keys(lang: Language): string[];
}

type Messages = Record<string, unknown>;

function flatten(obj: Messages, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? flatten(v as Messages, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

export function loadTranslations(dir: string): Translator {
  const resources: Record<string, Record<string, Messages>> = {};
  const namespaces = new Set<string>();
  for (const lang of LANGUAGES) {
    resources[lang] = {};
    for (const file of fs.readdirSync(path.join(dir, lang)).filter((f) => f.endsWith('.json'))) {
      const ns = file.slice(0, -'.json'.length);
      namespaces.add(ns);
      resources[lang][ns] = JSON.parse(fs.readFileSync(path.join(dir, lang, file), 'utf8')) as Messages;
    }
  }
  const instance = i18next.createInstance();
  // initAsync false: the resources are in memory, so init completes before it returns.
  void instance.init({
    resources,
    lng: 'en',
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    ns: [...namespaces],
    defaultNS: 'common',
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const fixed = new Map(LANGUAGES.map((l) => [l, instance.getFixedT(l)]));
  return {
    t: (lang) => fixed.get(lang)!,
    namespaces: [...namespaces].sort(),
    keys: (lang) => Object.entries(resources[lang]).flatMap(([ns, m]) => flatten(m).map((k) => `${ns}:${k}`)).sort(),
  };
}

/**
 * The language of a page (issue 11): what the person chose with the footer switch in this
 * browser, else the one they or their tenant stated (accounts/person.ts statedLanguage, the rule
 * their emails follow too), else the browser's Accept-Language, else English. Pure;
 * test/unit/i18n.test.ts.
 */
export function chooseLanguage(o: { chosen?: unknown; stated?: Language; browser?: string | false }): Language {
  if (isLanguage(o.chosen)) return o.chosen;
  if (o.stated) return o.stated;
  return isLanguage(o.browser) ? o.browser : 'en';
}
