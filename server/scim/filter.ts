// SCIM filter parser (RFC 7644 §3.4.2.2): a recursive-descent parser from the ABNF in
// RFC 7644 §3.4.2.2 / Figure 1 to a small AST. Precedence: not > and > or; keywords, operators
// and attribute names are case-insensitive. Also accepts Entra's
// `emails[type eq "work"].value eq "x"` (a value path followed by a sub-attribute comparison),
// read as `emails[type eq "work" and value eq "x"]`. Pure; table-tested in test/unit/filter.test.ts.
import { invalidFilter } from '../errors';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type CompValue = string | number | boolean | null;

export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'compare'; path: string; op: CompareOp; value: CompValue }
  | { kind: 'present'; path: string }
  /** `path[filter]`: paths inside `filter` are sub-attribute names of `path`. */
  | { kind: 'valuePath'; path: string; filter: Filter };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
export const MAX_FILTER_LENGTH = 8192;
const MAX_DEPTH = 64;

type Token =
  | { t: 'word'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: '(' | ')' | '[' | ']'; pos: number }
  | { t: 'end'; pos: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '"') {
      // A JSON string (RFC 7644 §3.4.2.2: compValue strings are JSON strings).
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw invalidFilter(`Unterminated string starting at position ${i + 1}`);
      let v: string;
      try {
        v = JSON.parse(input.slice(i, j + 1));
      } catch {
        throw invalidFilter(`Invalid string at position ${i + 1}`);
      }
      tokens.push({ t: 'string', v, pos: i });
      i = j + 1;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(input.slice(i));
      if (m && !/[A-Za-z_:$]/.test(input[i + m[0].length] ?? '')) {
        tokens.push({ t: 'number', v: Number(m[0]), pos: i });
        i += m[0].length;
        continue;
      }
    }
    const m = /^[A-Za-z0-9_:$.\-]+/.exec(input.slice(i));
    if (!m) throw invalidFilter(`Unexpected character "${c}" at position ${i + 1}`);
    tokens.push({ t: 'word', v: m[0], pos: i });
    i += m[0].length;
  }
  tokens.push({ t: 'end', pos: input.length });
  return tokens;
}

const ATTR_PATH = /^(urn:[A-Za-z0-9_:.\-]+:)?[A-Za-z$][A-Za-z0-9_$\-]*(\.[A-Za-z$][A-Za-z0-9_$\-]*)?$/i;
const SUB_ATTR = /^[A-Za-z$][A-Za-z0-9_$\-]*$/;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private isWord(tok: Token, ...words: string[]): boolean {
    return tok.t === 'word' && words.includes(tok.v.toLowerCase());
  }
  private fail(tok: Token, what: string): never {
    const near = tok.t === 'end' ? 'at the end of the filter' : `at position ${tok.pos + 1}`;
    throw invalidFilter(`${what} ${near} in filter: ${this.source}`);
  }

  parse(): Filter {
    const f = this.parseOr(false);
    if (this.peek().t !== 'end') this.fail(this.peek(), 'Unexpected input');
    return f;
  }

  private parseOr(inValuePath: boolean): Filter {
    let left = this.parseAnd(inValuePath);
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd(inValuePath) };
    }
    return left;
  }

  private parseAnd(inValuePath: boolean): Filter {
    let left = this.parseUnary(inValuePath);
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseUnary(inValuePath) };
    }
    return left;
  }

  private parseUnary(inValuePath: boolean): Filter {
    if (++this.depth > MAX_DEPTH) this.fail(this.peek(), 'Filter nested too deeply');
    try {
      const tok = this.peek();
      if (this.isWord(tok, 'not') && this.tokens[this.i + 1]?.t === '(') {
        this.next();
        return { kind: 'not', filter: this.parseGroup(inValuePath) };
      }
      if (tok.t === '(') return this.parseGroup(inValuePath);
      return this.parseAttrExp(inValuePath);
    } finally {
      this.depth--;
    }
  }

  private parseGroup(inValuePath: boolean): Filter {
    this.next(); // (
    const f = this.parseOr(inValuePath);
    if (this.peek().t !== ')') this.fail(this.peek(), 'Expected ")"');
    this.next();
    return f;
  }

  private parseAttrExp(inValuePath: boolean): Filter {
    const tok = this.next();
    if (tok.t !== 'word') this.fail(tok, 'Expected an attribute name');
    const path = tok.v;
    if (inValuePath ? !SUB_ATTR.test(path) : !ATTR_PATH.test(path)) this.fail(tok, `Invalid attribute path "${path}"`);

    if (this.peek().t === '[') {
      if (inValuePath) this.fail(this.peek(), 'Value paths cannot be nested');
      this.next();
      const inner = this.parseOr(true);
      if (this.peek().t !== ']') this.fail(this.peek(), 'Expected "]"');
      this.next();
      const after = this.peek();
      // Entra: `emails[type eq "work"].value eq "x"` — a sub-attribute comparison after the bracket.
      if (after.t === 'word' && after.v.startsWith('.')) {
        this.next();
        const sub = after.v.slice(1);
        if (!SUB_ATTR.test(sub)) this.fail(after, `Invalid sub-attribute "${after.v}"`);
        const cmp = this.parseComparison(sub);
        return { kind: 'valuePath', path, filter: { kind: 'and', left: inner, right: cmp } };
      }
      return { kind: 'valuePath', path, filter: inner };
    }
    return this.parseComparison(path);
  }

  private parseComparison(path: string): Filter {
    const opTok = this.next();
    if (opTok.t !== 'word') this.fail(opTok, `Expected an operator after "${path}"`);
    const op = opTok.v.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPS.has(op)) this.fail(opTok, `Unknown operator "${opTok.v}"`);
    const valTok = this.next();
    let value: CompValue;
    if (valTok.t === 'string' || valTok.t === 'number') value = valTok.v;
    else if (valTok.t === 'word' && ['true', 'false', 'null'].includes(valTok.v.toLowerCase())) {
      const w = valTok.v.toLowerCase();
      value = w === 'true' ? true : w === 'false' ? false : null;
    } else {
      this.fail(valTok, `Expected a value (string, number, true, false or null) after "${path} ${opTok.v}"`);
    }
    return { kind: 'compare', path, op: op as CompareOp, value };
  }
}

/** Parses a SCIM filter; throws ScimError invalidFilter with the position of the problem. */
export function parseFilter(input: string): Filter {
  if (typeof input !== 'string' || input.trim() === '') throw invalidFilter('The filter is empty');
  if (input.length > MAX_FILTER_LENGTH) throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  return new Parser(tokenize(input), input).parse();
}
