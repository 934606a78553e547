// Server-rendered pages (issue 11, "Quality"): Eta templates under views/, which escape every
// value they print (`<%= %>`; `<%~ %>` only for HTML we built, such as an included partial).
// Why Eta: a maintained engine with escaping on by default, layouts and partials, no runtime
// dependencies and a CommonJS build that loads on Node 20. Templates are compiled once and
// cached unless `cache` is off (development).
import { Eta } from 'eta';
import type { Language } from '../accounts/person';
import type { Translator } from './i18n';

export interface ViewsOptions {
  dir: string;
  i18n: Translator;
  cache: boolean;
}

export class Views {
  private readonly eta: Eta;
  constructor(private readonly o: ViewsOptions) {
    // `t` and `lang` are in scope in every template and partial (partials get `it` passed on).
    this.eta = new Eta({ views: o.dir, cache: o.cache, autoEscape: true, functionHeader: 'const t = it.t, lang = it.lang;' });
  }

  /** Renders views/<name>.eta with `data`, in `lang`. */
  render(name: string, data: Record<string, unknown>, lang: Language): string {
    return this.eta.render(name, { ...data, t: this.o.i18n.t(lang), lang });
  }
}
